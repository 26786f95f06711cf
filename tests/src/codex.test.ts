import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { analyticsEndpoints } from '@codepiper/analytics-contract';
import { ApiError, databasePath } from '@codepiper/sdk';
import { auditEndpoints } from '@codepiper/audit-contract';
import { codexEndpoints } from '@codepiper/codex-contract';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/events-contract';
import { policyEndpoints } from '@codepiper/policies-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { FORWARDER_DIGEST, LOGGED_TEXT_CHARS, offlineFile } from '@codepiper/sessions-contract/agent-hooks';
import { codexBin, codexKeyVar, prepareCodexHome, rolloutFile, type CodexHome } from './agents/codex.js';
import { TestDaemon, waitFor } from './harness.js';
import { FakeResponses, isStructured, lastIsFunctionCallOutput, lastUserText, sessionIdOf } from './model-servers/openai-responses.js';

interface Usage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

describe('codex provider: the real Codex CLI against a fake Responses API, through the daemon', () => {
  let daemon: TestDaemon;
  let fake: FakeResponses;
  let workdir: string;
  let codex: CodexHome;
  let session: SessionRecord;
  let threadId: string;

  before(async () => {
    fake = await FakeResponses.start([
      { when: (r) => lastUserText(r) === 'say hello', reply: { text: 'Hello from the fake model' } },
      { when: (r) => lastUserText(r) === 'list the files' && !lastIsFunctionCallOutput(r), reply: { text: 'Listing them', shell: { command: ['ls'] } } },
      { when: (r) => lastUserText(r) === 'list the files', reply: { text: 'There is one file' } },
      { when: (r) => lastUserText(r) === 'once more', reply: { text: 'Once more from the fake' } },
      { when: (r) => lastUserText(r) === 'after resume', reply: { text: 'Resumed and answering' } },
    ]);
    workdir = mkdtempSync('/tmp/cpt-codex-work-');
    codex = await prepareCodexHome({ baseUrl: fake.url, trustedDirs: [workdir] });
    // The key is also in the daemon's environment: a resumed session gets no request environment.
    daemon = await TestDaemon.start({ CODEPIPER_CODEX_BIN: codexBin, [codexKeyVar]: codex.env[codexKeyVar]! });
    // Listing files is fine; any other call would wait for a person (the default ask).
    await daemon.client.call(policyEndpoints.create, { body: { action: 'allow', rule: 'Bash(ls)', name: 'ls' } });
  });
  after(async () => {
    await daemon?.dispose();
    await fake?.close();
    rmSync(workdir, { recursive: true, force: true });
    rmSync(codex.codexHome, { recursive: true, force: true });
  });

  const show = (id: string) => daemon.client.call(sessionEndpoints.show, { params: { id } });
  const screenText = async (id: string) => (await daemon.client.call(sessionEndpoints.screen, { params: { id } })).text;
  const events = async (type: string): Promise<CodePiperEvent[]> =>
    (await daemon.client.call(eventEndpoints.list, { query: { session: session.id, type } })).events;
  /** Usage the fake reported for the session's own thread (not the title thread). */
  const mainUsage = (): Usage => {
    const { replies: _replies, ...totals } = fake.reportedUsage((r) => sessionIdOf(r) === threadId && !isStructured(r));
    return totals;
  };
  /** The session's usage in the analytics ledger, in Codex's terms (its input includes the cached input). */
  const storedUsage = async (): Promise<Usage> => {
    const { total } = await daemon.client.call(analyticsEndpoints.usage, { query: { session: session.id } });
    return {
      input_tokens: total.input + total.cacheRead,
      cached_input_tokens: total.cacheRead,
      output_tokens: total.output,
      reasoning_output_tokens: total.reasoning,
      total_tokens: total.input + total.cacheRead + total.output,
    };
  };

  test('starts codex with its hooks (trusted for this process only) and finds its session id', async () => {
    session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'codex', cwd: workdir, env: codex.env, options: { model: 'fake-model' } } });
    assert.equal(session.provider, 'codex');
    assert.equal(session.command[0], codexBin);
    assert.ok(session.command.includes('--no-alt-screen'));
    assert.deepEqual(session.command.slice(session.command.indexOf('-m'), session.command.indexOf('-m') + 2), ['-m', 'fake-model']);
    assert.ok(!session.command.some((a) => a.startsWith('notify=')), 'the user’s own notify is left alone');
    for (const event of ['PreToolUse', 'PermissionRequest', 'PostToolUse', 'Stop']) assert.ok(session.command.some((a) => a.startsWith(`hooks.${event}=`)), event);
    assert.ok(session.command.some((a) => a.startsWith('hooks.state=')));
    const script = /exec '([^']+)'/.exec(session.command.find((a) => a.startsWith('hooks.Stop=')) ?? '')?.[1] ?? '';
    assert.equal(statSync(script).mode & 0o777, 0o700);
    const curlConfig = path.join(path.dirname(script), 'hook.curl');
    assert.equal(statSync(curlConfig).mode & 0o777, 0o600);
    const secret = /Bearer ([0-9a-f]+)/.exec(readFileSync(curlConfig, 'utf8'))?.[1] ?? '';
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.ok(!session.command.join(' ').includes(secret), 'the secret is not in argv');
    assert.ok(!readFileSync(script, 'utf8').includes(secret), 'the secret is not in the script');

    const found = await waitFor('the Codex session id in metadata', async () => (await show(session.id)).metadata.codexSessionId as string | undefined, 30_000);
    threadId = found;
    assert.match(threadId, /^[0-9a-f-]{36}$/);
    assert.equal((await show(session.id)).metadata.codexHome, codex.codexHome);
  });

  test('a prompt sent with `codepiper send` is answered on screen; the Stop hook sets idle and records the turn', async () => {
    const sent = await daemon.cli(['send', session.id.slice(0, 8), 'say hello']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor('the answer on screen', async () => (await screenText(session.id)).includes('Hello from the fake model'), 30_000);
    const turn = await waitFor('codex.Stop', async () => (await events('codex.Stop'))[0], 15_000);
    const payload = turn.payload as Record<string, unknown>;
    assert.equal(payload.last_assistant_message, 'Hello from the fake model');
    assert.equal(payload.session_id, threadId);
    await waitFor('status idle, set by the Stop hook', async () => (await show(session.id)).status === 'idle', 5_000);
    // The record changes first, its event is stored a moment later.
    const statuses = await waitFor('the idle status event', async () => {
      const to = (await events('session.status')).map((e) => (e.payload as { to: string }).to);
      return to.at(-1) === 'idle' ? to : undefined;
    }, 5_000);
    assert.deepEqual(statuses.slice(-2), ['working', 'idle']);
    // The idle status is set by the hook itself, at once.
    const idle = (await events('session.status')).at(-1)!;
    assert.ok(idle.id > turn.id);
  });

  test('usage from the rollout equals what the model server reported for the main thread, without double counting', async () => {
    assert.ok(await rolloutFile(codex.codexHome, threadId), 'the rollout exists');
    await waitFor('usage after the first turn', async () => {
      const usage = (await show(session.id)).metadata.usage as (Usage & { model: string | null }) | undefined;
      return usage !== undefined && usage.total_tokens === mainUsage().total_tokens;
    }, 15_000);
    const { model, ...first } = (await show(session.id)).metadata.usage as Usage & { model: string | null };
    assert.deepEqual(first, mainUsage());
    assert.equal(model, 'fake-model');

    const sent = await daemon.cli(['send', session.id, 'list the files']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor('the second answer', async () => (await screenText(session.id)).includes('There is one file'), 30_000);
    await waitFor('two turns ended', async () => (await events('codex.Stop')).length === 2, 15_000);
    await waitFor('usage after the second turn', async () => {
      const usage = (await show(session.id)).metadata.usage as Usage | undefined;
      return usage !== undefined && usage.total_tokens === mainUsage().total_tokens;
    }, 15_000);
    const { model: _model, ...second } = (await show(session.id)).metadata.usage as Usage & { model: string | null };
    assert.deepEqual(second, mainUsage());
    assert.equal(fake.reportedUsage((r) => sessionIdOf(r) === threadId && !isStructured(r)).replies, 3);
    assert.deepEqual(await storedUsage(), mainUsage(), 'the ledger holds each response once');

    // Every recorded turn is the main thread's (the title request is no turn of it).
    for (const e of await events('codex.Stop')) assert.equal((e.payload as Record<string, unknown>).session_id, threadId);
    const ls = (await daemon.client.call(auditEndpoints.list, { query: { session: session.id } })).entries.find((e) => e.tool === 'Bash');
    assert.deepEqual([ls?.source, ls?.decision, ls?.policyName, (ls?.input as { command: string }).command], ['codex.prompt', 'allow', 'ls', 'ls']);
    const tools = await waitFor('the tool call event', async () => (await events('codex.tool_call'))[0], 10_000);
    assert.equal((tools.payload as { name: string }).name, 'exec_command');
    assert.deepEqual((tools.payload as { arguments: unknown }).arguments, { cmd: 'ls' });
    await waitFor('two task_complete events', async () => (await events('codex.task_complete')).length === 2, 10_000);
  });

  test('the transcript shows both turns', async () => {
    const { entries } = await daemon.client.call(sessionEndpoints.transcript, { params: { id: session.id } });
    const brief = entries.map((e) => `${e.kind}:${e.kind === 'tool_call' ? e.tool?.name : e.text}`);
    assert.deepEqual(
      brief.filter((b) => !b.startsWith('tool_result:')),
      ['user:say hello', 'assistant:Hello from the fake model', 'user:list the files', 'assistant:Listing them', 'tool_call:exec_command', 'assistant:There is one file'],
    );
    assert.equal(entries.filter((e) => e.kind === 'tool_result').length, 1);
    assert.equal(entries.find((e) => e.kind === 'assistant')?.model, 'fake-model');
    const cli = await daemon.cli(['transcript', session.id]);
    assert.equal(cli.code, 0, cli.stderr);
  });

  test('a hook with a wrong secret gets 401 and changes nothing', async () => {
    const before = (await events('codex.Stop')).length;
    const refused = await daemon.client
      .call(codexEndpoints.hook, { params: { session: session.id }, headers: { authorization: 'Bearer wrong' }, body: { hook_event_name: 'Stop', session_id: threadId } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(refused instanceof ApiError);
    assert.equal(refused.status, 401);
    assert.equal((await events('codex.Stop')).length, before);
  });

  test('a call carrying a large patch is judged whole through the forwarder, and the event log keeps it cut', async () => {
    const policy = await daemon.client.call(policyEndpoints.create, { body: { action: 'allow', tool: 'apply_patch', name: 'patches', reason: 'patches are reviewed' } });
    try {
      const patch = `*** Begin Patch\n*** Add File: big.txt\n${'+a line of the new file\n'.repeat(100_000)}*** End Patch\n`;
      const sent = { session_id: threadId, hook_event_name: 'PreToolUse', tool_name: 'apply_patch', tool_input: { command: patch }, tool_use_id: 'call_big' };
      const forwarder = path.join(daemon.home, 'plugins', 'provider-codex', session.id, 'hook.sh');
      const forwarded = spawnSync(forwarder, ['PreToolUse', '30'], { input: JSON.stringify(sent), encoding: 'utf8', timeout: 60_000 });
      assert.deepEqual([forwarded.status, forwarded.stdout], [0, '{}'], `the daemon's answer (allowed), not the forwarder's refusal: ${forwarded.stderr}`);
      const audited = (await daemon.client.call(auditEndpoints.list, { query: { session: session.id, tool: 'apply_patch', newest: true, limit: 1 } })).entries[0];
      assert.deepEqual([audited?.decision, audited?.policyName, audited?.input], ['allow', 'patches', { command: patch }], 'judged and audited whole');
      const recorded = (await events('codex.PreToolUse')).at(-1)?.payload as { tool_input: { command: string } };
      assert.equal(recorded.tool_input.command, `${patch.slice(0, LOGGED_TEXT_CHARS)}[cut: ${patch.length - LOGGED_TEXT_CHARS} more characters]`);
    } finally {
      await daemon.client.call(policyEndpoints.remove, { params: { id: policy.id } });
    }
  });

  test('a call the forwarder refused while the daemon was slow is audited at the next hook, not at the next start', async () => {
    const dir = path.join(daemon.home, 'plugins', 'provider-codex', session.id);
    // As the forwarder keeps a PreToolUse it refused when the daemon's answer did not come in time.
    const kept = { session_id: threadId, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'touch kept.txt' }, tool_use_id: 'call_kept' };
    appendFileSync(offlineFile(dir), `${JSON.stringify(kept)}\n`, { mode: 0o600 });
    const next = { session_id: threadId, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'call_next' };
    const forwarded = spawnSync(path.join(dir, 'hook.sh'), ['PreToolUse', '30'], { input: JSON.stringify(next), encoding: 'utf8', timeout: 60_000 });
    assert.deepEqual([forwarded.status, forwarded.stdout], [0, '{}'], forwarded.stderr);
    const audited = (await daemon.client.call(auditEndpoints.list, { query: { session: session.id, newest: true, limit: 2 } })).entries.reverse();
    assert.deepEqual(
      audited.map((e) => [e.source, (e.input as { command: string }).command, e.decision]),
      [
        ['codex.offline', 'touch kept.txt', 'deny'],
        ['codex.prompt', 'ls', 'allow'],
      ],
      'the kept call first, then the hook that brought it',
    );
    assert.equal(existsSync(offlineFile(dir)), false, 'taken');
  });

  test('after a daemon restart the rollout is followed from its stored offset: nothing is counted twice; a forwarder another version wrote is replaced', async () => {
    const forwarder = path.join(daemon.home, 'plugins', 'provider-codex', session.id, 'hook.sh');
    const current = readFileSync(forwarder, 'utf8');
    await daemon.stop();
    // As a version before this one wrote it (its temporary files left behind), and the session's record as that version kept it.
    writeFileSync(forwarder, current.replace(/^trap 'rm -f "\$in" "\$out"' EXIT\n/m, ''));
    const recorded = spawnSync('sqlite3', [databasePath(daemon.home), `UPDATE sessions SET metadata = json_remove(metadata, '$.${FORWARDER_DIGEST}') WHERE id = '${session.id}'`], { encoding: 'utf8' });
    assert.equal(recorded.status, 0, recorded.stderr);
    await daemon.start();
    await waitFor('the forwarder brought up to date', () => readFileSync(forwarder, 'utf8') === current || undefined, 20_000);
    // The turn below ends through it (its Stop hook).
    const sent = await daemon.cli(['send', session.id, 'once more']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor('three turns ended', async () => (await events('codex.Stop')).length === 3, 30_000);
    await waitFor('three task_complete events', async () => (await events('codex.task_complete')).length === 3, 10_000);
    await waitFor('usage after the third turn', async () => ((await show(session.id)).metadata.usage as Usage | undefined)?.total_tokens === mainUsage().total_tokens, 10_000);
    assert.equal((await events('codex.tool_call')).length, 1, 'the first turns were not read again');
    assert.equal((await events('codex.task_complete')).length, 3);
    const { model: _model, ...usage } = (await show(session.id)).metadata.usage as Usage & { model: string | null };
    assert.deepEqual(usage, mainUsage());
    assert.deepEqual(await storedUsage(), mainUsage());
    await waitFor('status idle, set by the Stop hook', async () => (await show(session.id)).status === 'idle', 5_000);
  });

  test('stop ends codex cleanly, without the forced kill', async () => {
    const stopped = await daemon.cli(['stop', session.id, '--json']);
    assert.equal(stopped.code, 0, stopped.stderr);
    const record = await show(session.id);
    assert.equal(record.status, 'exited');
    assert.equal(record.exitCode, 0);
    assert.notEqual(record.statusDetail, 'killed: it did not stop in time');
  });

  test('resume continues the same Codex session', async () => {
    const resumed = await daemon.cli(['resume', session.id, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const record = JSON.parse(resumed.stdout) as SessionRecord;
    assert.deepEqual(record.command.slice(1, 3), ['resume', threadId]);
    assert.equal(record.metadata.codexSessionId, threadId);
    const sent = await daemon.cli(['send', session.id, 'after resume']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor('the answer after resume', async () => (await screenText(session.id)).includes('Resumed and answering'), 30_000);
    await waitFor('the turn after resume ended', async () => (await events('codex.Stop')).length === 4, 15_000);
    // The status follows the hook's event by a moment.
    await waitFor('status idle, set by the Stop hook', async () => (await show(session.id)).status === 'idle', 5_000);
    const { entries } = await daemon.client.call(sessionEndpoints.transcript, { params: { id: session.id } });
    assert.deepEqual(entries.filter((e) => e.kind === 'user').map((e) => e.text), ['say hello', 'list the files', 'once more', 'after resume']);
    // Codex carries its cumulative counter over a resume (0.169.0): the stored value stays exact.
    await waitFor('usage after resume', async () => ((await show(session.id)).metadata.usage as Usage | undefined)?.total_tokens === mainUsage().total_tokens, 10_000);
    assert.deepEqual(await storedUsage(), mainUsage());
    const stopped = await daemon.cli(['stop', session.id]);
    assert.equal(stopped.code, 0, stopped.stderr);
  });

  test('rm takes the session’s hook forwarder and secret with it', async () => {
    const dir = path.join(daemon.home, 'plugins', 'provider-codex', session.id);
    assert.ok(existsSync(path.join(dir, 'hook.curl')));
    const removed = await daemon.cli(['rm', session.id]);
    assert.equal(removed.code, 0, removed.stderr);
    await waitFor('the session’s files to go', () => !existsSync(dir) || undefined);
  });
});
