import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { approvalEndpoints, type Approval } from '@codepiper/policies-contract';
import { auditEndpoints } from '@codepiper/audit-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { codexBin, codexKeyVar, prepareCodexHome, userHookToml, type CodexHome } from './agents/codex.js';
import { TestDaemon, tempHome, waitFor } from './harness.js';
import { answeredApproval } from './approvals.js';
import { FakeResponses, functionCallOutput, lastIsFunctionCallOutput, lastUserText } from './model-servers/openai-responses.js';

describe('policies on Codex’s tool calls: the real Codex, its approval policy `never`, through its hooks', { timeout: 300_000 }, () => {
  let daemon: TestDaemon;
  let fake: FakeResponses;
  let codex: CodexHome;
  let workdir: string;
  let session: SessionRecord;

  before(async () => {
    workdir = mkdtempSync('/tmp/cpt-cx-pol-');
    fake = await FakeResponses.start([
      { when: (r) => lastIsFunctionCallOutput(r), reply: { text: 'Done with that' } },
      { when: (r) => lastUserText(r).includes('clean the build'), reply: { text: 'Cleaning', shell: { command: ['rm', '-rf', 'build'] } } },
      // Not an rm: under approval policy `never` Codex itself refuses `rm -f` style commands.
      { when: (r) => lastUserText(r).includes('make the file'), reply: { text: 'Making it', shell: { command: ['touch', 'made.txt'] } } },
    ]);
    const codexHome = mkdtempSync('/tmp/cpt-codex-');
    // The user's own hook and notify, which must keep working beside CodePiper's.
    codex = await prepareCodexHome({
      baseUrl: fake.url,
      codexHome,
      trustedDirs: [workdir],
      notifyCommand: ['sh', '-c', `echo turn >> ${path.join(workdir, 'user-notify.log')}`],
      extraToml: userHookToml(codexHome, 'PostToolUse', 'post_tool_use', `cat >> ${path.join(workdir, 'user-hook.log')}`),
    });
    daemon = new TestDaemon(tempHome(), { CODEPIPER_CODEX_BIN: codexBin, [codexKeyVar]: codex.env[codexKeyVar]! });
    await daemon.start();
    const denied = await daemon.cli(['policy', 'create', '--action', 'deny', '--tool', 'Bash', '--args', '{"command":"rm -rf *"}', '--name', 'no-rm-rf', '--reason', 'No recursive deletes']);
    assert.equal(denied.code, 0, denied.stderr);
    session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'codex', cwd: workdir, env: codex.env, options: { model: 'fake-model' } } });
    await waitFor('Codex to be ready', async () => (await daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text.includes('Ask Codex'), 60_000);
  });
  after(async () => {
    if (!daemon?.process) await daemon?.start().catch(() => undefined);
    if (session) await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } }).catch(() => undefined);
    await daemon?.dispose();
    await fake?.close();
    rmSync(workdir, { recursive: true, force: true });
    if (codex) rmSync(codex.codexHome, { recursive: true, force: true });
  });

  const show = () => daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
  const audit = async () => (await daemon.client.call(auditEndpoints.list, { query: { session: session.id } })).entries;
  const send = async (text: string) => {
    const sent = await daemon.cli(['send', session.id, text]);
    assert.equal(sent.code, 0, sent.stderr);
  };
  const pending = () =>
    waitFor('a pending approval', async () => (await daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.find((a: Approval) => a.sessionId === session.id), 60_000);
  /** What Codex told the model its last tool call gave. */
  const lastToolOutput = (): string => {
    const last = fake.requests.filter(lastIsFunctionCallOutput).at(-1);
    return last ? (functionCallOutput(last)?.text ?? '') : '';
  };
  const turnEnded = (count: number) => waitFor(`turn ${count} to end`, async () => ((await show()).status === 'idle' && fake.requests.filter(lastIsFunctionCallOutput).length >= count) || undefined, 60_000);

  test('a deny policy refuses the call before it runs; Codex is told why; audited', async () => {
    mkdirSync(path.join(workdir, 'build'));
    await send('clean the build dir');
    await turnEnded(1);
    assert.ok(existsSync(path.join(workdir, 'build')), 'the build dir is still there');
    assert.match(lastToolOutput(), /No recursive deletes/);
    const entry = (await audit()).find((e) => e.tool === 'Bash');
    assert.deepEqual([entry?.source, entry?.decision, entry?.policyName, (entry?.input as { command: string }).command], ['codex.prompt', 'deny', 'no-rm-rf', 'rm -rf build']);
  });

  const made = () => path.join(workdir, 'made.txt');

  test('a call no policy covers waits as a pending approval (session waiting, what is asked); approved from the CLI it runs', async () => {
    await send('make the file');
    const approval = await pending();
    assert.deepEqual([approval.tool, (approval.input as { command: string }).command, approval.policyName], ['Bash', 'touch made.txt', 'default']);
    const waiting = await show();
    assert.deepEqual([waiting.status, waiting.statusDetail], ['waiting', 'permission: Bash touch made.txt']);
    assert.equal(existsSync(made()), false, 'nothing runs while it is pending');
    const approved = await daemon.cli(['approve', approval.id.slice(0, 8)]);
    assert.equal(approved.code, 0, approved.stderr);
    await waitFor('the approved touch to run', () => existsSync(made()), 30_000);
    await turnEnded(2);
    const last = (await audit()).filter((e) => e.tool === 'Bash').at(-1);
    assert.deepEqual([last?.decision, last?.answeredBy], ['allow', 'unix:local']);
    assert.match(readFileSync(path.join(workdir, 'user-hook.log'), 'utf8'), /touch made\.txt/, 'the user’s own PostToolUse hook ran');
    assert.match(readFileSync(path.join(workdir, 'user-notify.log'), 'utf8'), /turn/, 'the user’s own notify ran');
  });

  test('denied from the CLI, the call does not run and Codex hears the reason', async () => {
    rmSync(made());
    await send('make the file again');
    const approval = await pending();
    const denied = await daemon.cli(['deny', approval.id, '--reason', 'not now']);
    assert.equal(denied.code, 0, denied.stderr);
    await turnEnded(3);
    assert.equal(existsSync(made()), false);
    assert.match(lastToolOutput(), /not now/);
    const last = (await audit()).filter((e) => e.tool === 'Bash').at(-1);
    assert.deepEqual([last?.decision, last?.answeredBy, last?.reason], ['deny', 'unix:local', 'not now']);
  });

  test('Esc in Codex’s terminal while the question is pending: the turn is interrupted, the approval denied by the terminal, nothing runs', async () => {
    await send('make the file at last');
    const approval = await pending();
    // As a person at `tmux attach` would, a moment after the question came.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(daemon.tmux(['send-keys', '-t', `cp-${session.id}`, 'Escape']).code, 0);
    const answered = await answeredApproval(daemon.client, approval.id);
    assert.deepEqual([answered.status, answered.answeredBy], ['denied', 'terminal']);
    await waitFor('Codex to be idle', async () => (await show()).status === 'idle', 30_000);
    assert.equal(existsSync(made()), false, 'the touch did not run');
    const last = await waitFor('the no in the audit', async () => (await audit()).filter((e) => e.tool === 'Bash' && e.answeredBy === 'terminal').at(-1), 10_000);
    assert.equal(last.decision, 'deny');
  });

  test('the daemon down: the forwarder refuses the call (Codex would run it on a failed hook)', async () => {
    const before = fake.requests.filter(lastIsFunctionCallOutput).length;
    await daemon.stop();
    const target = `cp-${session.id}`;
    assert.equal(daemon.tmux(['send-keys', '-t', target, '-l', 'make the file once more']).code, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(daemon.tmux(['send-keys', '-t', target, 'Enter']).code, 0);
    await waitFor('the refusal to reach the model', () => fake.requests.filter(lastIsFunctionCallOutput).length > before || undefined, 60_000);
    assert.match(lastToolOutput(), /could not reach its daemon/);
    assert.equal(existsSync(made()), false, 'the touch did not run');
    await daemon.start();
    const offline = (await audit()).filter((e) => e.answeredBy === 'daemon down');
    assert.deepEqual(
      offline.map((e) => [e.source, (e.input as { command: string }).command, e.decision]),
      [['codex.offline', 'touch made.txt', 'deny']],
    );
  });
});
