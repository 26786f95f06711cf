import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventEndpoints } from '@codepiper/events-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { TestDaemon, waitFor } from './harness.js';

/** A stand-in agent: prints its argv and a prompt, then echoes each line it reads. */
const FAKE_AGENT = `#!/bin/sh
printf 'ARGV:'
for a; do printf ' [%s]' "$a"; done
printf '\\n'
while printf '%s> ' "$(basename "$0")"; IFS= read -r line; do printf 'you said: %s\\n' "$line"; done
`;

describe('terminal agent presets (aider, gemini)', () => {
  let plain: TestDaemon;
  let faked: TestDaemon;
  let workdir: string;
  let bin: string;

  before(async () => {
    workdir = mkdtempSync('/tmp/cpt-agents-work-');
    bin = mkdtempSync('/tmp/cpt-agents-bin-');
    for (const name of ['aider', 'gemini']) {
      writeFileSync(path.join(bin, name), FAKE_AGENT);
      chmodSync(path.join(bin, name), 0o755);
    }
    // Without the fakes: PATH with no aider (as on this machine).
    plain = await TestDaemon.start({ PATH: process.env.PATH ?? '/usr/bin:/bin' });
    faked = await TestDaemon.start({ PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` });
  });
  after(async () => {
    await plain?.dispose();
    await faked?.dispose();
    rmSync(workdir, { recursive: true, force: true });
    rmSync(bin, { recursive: true, force: true });
  });

  const screenText = async (daemon: TestDaemon, id: string) => (await daemon.client.call(sessionEndpoints.screen, { params: { id } })).text;

  test('providers are listed', async () => {
    const { providers } = await plain.client.call(sessionEndpoints.providers, {});
    for (const id of ['aider', 'gemini']) assert.ok(providers.some((p) => p.id === id), id);
  });

  test('start -p aider fails cleanly when aider is not installed', async (t) => {
    if ((process.env.PATH ?? '').split(':').some((dir) => dir && spawnable(path.join(dir, 'aider')))) return t.skip('aider is installed here');
    const result = await plain.cli(['start', '-p', 'aider', '-d', workdir]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /command not found: "aider"/);
    const { sessions } = await plain.client.call(sessionEndpoints.list, { query: {} });
    assert.equal(sessions.length, 0, 'no session record is left behind');
  });

  test('aider runs with --model and the extra args; input reaches it', async () => {
    const result = await faked.cli(['start', '-p', 'aider', '-d', workdir, '--model', 'gpt-fake', '--json', '--', '--no-git', 'a b']);
    assert.equal(result.code, 0, result.stderr);
    const session = JSON.parse(result.stdout) as SessionRecord;
    assert.deepEqual(session.command, ['aider', '--model', 'gpt-fake', '--no-git', 'a b']);
    await waitFor('the argv on screen', async () => (await screenText(faked, session.id)).includes('ARGV: [--model] [gpt-fake] [--no-git] [a b]'));
    await waitFor('the prompt', async () => (await screenText(faked, session.id)).includes('aider>'));
    assert.equal((await faked.cli(['send', session.id, 'hello there'])).code, 0);
    await waitFor('the echo', async () => (await screenText(faked, session.id)).includes('you said: hello there'));
  });

  test('with no hooks, status follows the output: working while it prints, idle once it settles', async () => {
    const session = await faked.client.call(sessionEndpoints.start, { body: { provider: 'aider', cwd: workdir } });
    const statuses = async () => {
      const { events } = await faked.client.call(eventEndpoints.list, { query: { session: session.id, type: 'session.status' } });
      return events.map((e) => (e.payload as { to: string }).to);
    };
    await waitFor('idle after the prompt settles', async () => (await statuses()).at(-1) === 'idle');
    assert.deepEqual(await statuses(), ['running', 'working', 'idle']);
    await faked.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'more work' } });
    await waitFor('working, then idle again', async () => (await statuses()).join(',') === 'running,working,idle,working,idle');
  });

  test('gemini takes the model as -m; without --model no flag is added', async () => {
    const withModel = JSON.parse((await faked.cli(['start', '-p', 'gemini', '-d', workdir, '--model', 'gemini-fake', '--json'])).stdout) as SessionRecord;
    assert.deepEqual(withModel.command, ['gemini', '-m', 'gemini-fake']);
    await waitFor('the argv on screen', async () => (await screenText(faked, withModel.id)).includes('ARGV: [-m] [gemini-fake]'));
    const bare = JSON.parse((await faked.cli(['start', '-p', 'gemini', '-d', workdir, '--json'])).stdout) as SessionRecord;
    assert.deepEqual(bare.command, ['gemini']);
  });

  test('an unknown option is refused', async () => {
    const refused = await faked.cli(['start', '-p', 'aider', '-d', workdir, '--permission-mode', 'plan']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /permissionMode|permission/i);
  });
});

function spawnable(file: string): boolean {
  return ((statSync(file, { throwIfNoEntry: false })?.mode ?? 0) & 0o111) !== 0;
}
