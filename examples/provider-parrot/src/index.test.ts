import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { isFinished, SESSION_STATUSES, sessionEndpoints, type SessionRecord, type SessionStatus } from '@codepiper/sessions-contract';
import { startTestDaemon, waitFor, type TestDaemon } from '@codepiper/sdk/testing';

describe('the Parrot provider, loaded from config.yaml', () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startTestDaemon({ plugins: [new URL('./index.js', import.meta.url)], config: { 'provider-parrot': { idle_after_ms: 300 } } });
  });
  after(() => daemon?.stop());

  const screen = async (session: SessionRecord) => (await daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text;
  const start = (args: string[] = []) => daemon.client.call(sessionEndpoints.start, { body: { provider: 'parrot', cwd: os.tmpdir(), args } });

  it('is listed among the providers, with the option its schema declares', async () => {
    const { providers } = await daemon.client.call(sessionEndpoints.providers);
    const parrot = providers.find((p) => p.id === 'parrot');
    assert.equal(parrot?.description, 'Parrot, the example terminal agent');
    assert.deepEqual(parrot?.options, [{ key: 'loud', type: 'boolean', description: 'Parrot repeats in capitals' }]);
  });

  it('gives codepiper start a flag for its option, listed in --help and refused for other providers', async () => {
    const help = await daemon.cli(['start', '--help']);
    assert.match(help.stdout, /^ {2}--loud {2,}parrot: Parrot repeats in capitals$/m);
    const started = await daemon.cli(['start', '-p', 'parrot', '-d', os.tmpdir(), '--loud', '--json']);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    assert.ok(session.command.includes('--loud'), session.command.join(' '));
    await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });

    const refused = await daemon.cli(['start', '-p', 'shell', '-d', os.tmpdir(), '--loud']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--loud is an option of parrot, not of provider shell/);
  });

  it('adds its commands to the CLI: listed in the help, arguments and flags from its endpoints, its answers printed', async () => {
    const help = await daemon.cli(['--help']);
    assert.match(help.stdout, /^ {2}parrots +List Parrot sessions, loud or not \(plugin provider-parrot\)$/m);
    assert.match((await daemon.cli(['parrots', '--help'])).stdout, /--running +Only the parrots still running/);

    const loud = JSON.parse((await daemon.cli(['start', '-p', 'parrot', '-d', os.tmpdir(), '-n', 'polly', '--loud', '--json'])).stdout) as SessionRecord;
    const quiet = JSON.parse((await daemon.cli(['start', '-p', 'parrot', '-d', os.tmpdir(), '-n', 'quiet-polly', '--json'])).stdout) as SessionRecord;
    await daemon.client.call(sessionEndpoints.kill, { params: { id: quiet.id } });

    const running = await daemon.cli(['parrots', '--running']);
    assert.equal(running.code, 0, running.stderr);
    const rows = running.stdout.trim().split('\n');
    assert.match(rows[0]!, /^ID +NAME +STATUS +LOUD$/);
    assert.equal(rows.length, 2, running.stdout);
    const [, name, status, isLoud] = rows[1]!.split(/ +/);
    // Parrot is running, working (printing) or idle (quiet for 300 ms) by when it is listed: still running, any of them.
    assert.deepEqual([name, SESSION_STATUSES.includes(status as SessionStatus) && !isFinished(status as SessionStatus), isLoud], ['polly', true, 'true']);
    const all = JSON.parse((await daemon.cli(['parrots', '--json'])).stdout) as { parrots: { name: string }[] };
    assert.ok(['polly', 'quiet-polly'].every((n) => all.parrots.some((p) => p.name === n)), 'the killed one too, without --running');

    const one = await daemon.cli(['parrot', loud.id.slice(0, 8)]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^name: +polly$/m);
    const missing = await daemon.cli(['parrot', 'nosuchparrot']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /not found/);
    await daemon.client.call(sessionEndpoints.kill, { params: { id: loud.id } });
  });

  it('starts Parrot, types a prompt, presses keys and stops it the way Parrot leaves', async () => {
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'parrot', cwd: os.tmpdir(), options: { loud: true } } });
    await waitFor('the prompt', async () => (await screen(session)).includes('parrot>'));

    await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'hello there' } });
    await waitFor('the answer', async () => (await screen(session)).includes('Parrot says: HELLO THERE'));

    await daemon.client.call(sessionEndpoints.keys, { params: { id: session.id }, body: { keys: ['ctrl+c'] } });
    await waitFor('the interruption', async () => (await screen(session)).includes('(interrupted; /quit leaves)'));

    const stopped = await daemon.client.call(sessionEndpoints.stop, { params: { id: session.id } });
    assert.equal(stopped.status, 'exited');
    assert.equal(stopped.exitCode, 0, 'Parrot left on /quit rather than being killed');
    assert.match(await screen(session), /Bye!/);
  });

  it('keeps why typed text was refused in the session, through onEvent', async () => {
    const created = await daemon.cli(['policy', 'create', '--action', 'deny', '--tool', 'terminal_input', '--args', '{"text":"rm *"}', '--reason', 'No deletes', '--name', 'no-rm']);
    assert.equal(created.code, 0, created.stderr);
    const session = await start();
    const sent = await daemon.cli(['send', session.id, 'rm -rf /']);
    assert.equal(sent.code, 1);
    assert.match(sent.stderr, /input refused: No deletes/);
    const refused = await waitFor('the refusal in the metadata', async () => {
      const shown = await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
      return shown.metadata.lastRefusal;
    });
    assert.deepEqual(refused, { reason: 'No deletes', policy: 'no-rm' });
    await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });
  });
});
