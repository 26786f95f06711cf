import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { workflowRunEndpoints, type WorkflowRunDetail } from '@codepiper/workflows-contract';
import { claudeBin, prepareClaudeHome, removeClaudeHome, type ClaudeHome } from './agents/claude.js';
import { repoRoot, TestDaemon, waitFor } from './harness.js';
import { FakeAnthropic, isMainConversation, lastUserText, type RecordedRequest } from './model-servers/anthropic.js';

const API_KEY = 'sk-ant-workflow-tests-0123456789';

/**
 * Workflows driving the real Claude Code against the local model server. The
 * daemon gets the Claude config (model server URL, offline settings) in its
 * environment, so the files run exactly as a user writes them.
 */
describe('workflows with the real Claude Code', { timeout: 400_000 }, () => {
  let daemon: TestDaemon;
  let fake: FakeAnthropic;
  let home: ClaudeHome;
  let workdir: string;
  /** Where the headline example runs: a folder Claude has never seen (the home trusts only `workdir`), as a user's own project may be. */
  let newProject: string;
  /** What the fake model answers to "Run the test suite". */
  let testVerdict = '';
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));

  before(async () => {
    workdir = mkdtempSync('/tmp/cpt-wf-claude-');
    newProject = mkdtempSync('/tmp/cpt-wf-new-project-');
    fake = await FakeAnthropic.start([
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('Run the test suite'), reply: () => ({ text: testVerdict }) },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('Fix the failing tests'), reply: { text: 'Fixed test_parse: the off-by-one is gone.' } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('Review'), reply: (r) => ({ text: `review of ${/Review (\w+)/.exec(lastUserText(r))?.[1]}: fine`, delayMs: 1500 }) },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('Think slowly'), reply: { text: 'a slow answer', heldUntil: held } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('Clean up'), reply: { toolUse: { name: 'Bash', input: { command: 'rm -f victim.txt', description: 'Remove victim.txt' } } } },
    ]);
    home = await prepareClaudeHome({ cwd: workdir, apiKey: API_KEY, baseUrl: fake.url });
    daemon = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: claudeBin, ...home.env });
  });
  after(async () => {
    release();
    await daemon?.dispose();
    await fake?.close();
    rmSync(workdir, { recursive: true, force: true });
    rmSync(newProject, { recursive: true, force: true });
    await removeClaudeHome(home);
  });

  const trustedFolders = () => (JSON.parse(readFileSync(path.join(home.configDir, '.claude.json'), 'utf8')) as { projects?: Record<string, { hasTrustDialogAccepted?: boolean }> }).projects ?? {};
  const prompts = (match: string): RecordedRequest[] => fake.requests.filter((r) => isMainConversation(r) && lastUserText(r).includes(match));
  const run = (id: string): Promise<WorkflowRunDetail> => daemon.client.call(workflowRunEndpoints.show, { params: { id } });
  const runFile = async (file: string): Promise<{ detail: WorkflowRunDetail; stdout: string; code: number }> => {
    const result = await daemon.cli(['workflow', 'run', file, '--json'], { timeoutMs: 180_000 });
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { payload: { run: string } });
    return { detail: await run(events[0]?.payload.run ?? ''), stdout: result.stdout, code: result.code };
  };

  test('the headline example, in a folder Claude has never seen, takes the then branch when the answer contains FAIL', async () => {
    const file = path.join(newProject, 'test-and-fix.yaml');
    copyFileSync(path.join(repoRoot, 'examples', 'workflows', 'test-and-fix.yaml'), file);
    assert.equal(trustedFolders()[newProject], undefined, 'Claude has never seen the folder');
    testVerdict = '2 passed, 1 FAIL: test_parse expected 3, got 4';
    const { detail, code, stdout } = await runFile(file);
    assert.equal(code, 0, stdout);
    assert.equal(detail.status, 'succeeded', detail.error ?? '');
    const [runTests, branch, fix] = detail.steps;
    assert.equal(runTests?.id, 'run-tests');
    assert.equal(runTests?.outputs.result, testVerdict, "the result is Claude's last message of the turn");
    assert.equal(branch?.outputs.branch, 'then');
    assert.equal(fix?.id, 'fix-tests');
    assert.equal(fix?.status, 'succeeded');
    assert.equal(fix?.outputs.result, 'Fixed test_parse: the off-by-one is gone.');
    const fixPrompt = prompts('Fix the failing tests');
    assert.equal(fixPrompt.length, 1);
    assert.equal(lastUserText(fixPrompt[0] as RecordedRequest).trim(), `Fix the failing tests: ${testVerdict}`);
    const session = await daemon.client.call(sessionEndpoints.show, { params: { id: runTests?.sessionId ?? '' } });
    assert.equal(session.cwd, newProject, 'sessions start in the workflow file’s directory');
    // Claude asked whether to trust the folder, and the steps' `trust: true` answered yes (Claude records that itself).
    assert.equal(trustedFolders()[newProject]?.hasTrustDialogAccepted, true);
  });

  test('the headline example skips the then branch when the answer has no FAIL', async () => {
    testVerdict = 'All 3 tests passed.';
    const fixesBefore = prompts('Fix the failing tests').length;
    const { detail, code, stdout } = await runFile(path.join(newProject, 'test-and-fix.yaml'));
    assert.equal(code, 0, stdout);
    assert.equal(detail.status, 'succeeded');
    assert.equal(detail.steps.find((s) => s.id === 'run-tests')?.outputs.result, testVerdict);
    assert.equal(detail.steps.find((s) => s.type === 'if')?.outputs.branch, 'else');
    assert.equal(detail.steps.find((s) => s.id === 'fix-tests'), undefined);
    assert.equal(prompts('Fix the failing tests').length, fixesBefore, 'no fix session was prompted');
  });

  test('without trust, a session step in a folder Claude has never seen fails saying to add trust: true', async () => {
    const dir = mkdtempSync('/tmp/cpt-wf-untrusted-');
    try {
      const file = path.join(dir, 'untrusted.yaml');
      writeFileSync(file, 'name: untrusted\nsteps:\n  - type: session\n    id: ask\n    provider: claude-code\n    prompt: "Review untrusted"\n');
      const { detail, code } = await runFile(file);
      assert.equal(code, 1);
      assert.equal(detail.status, 'failed');
      assert.match(detail.error ?? '', /steps\[0\] \(ask\) Claude Code asks whether to trust .*\(in a workflow: trust: true on the session step\)$/);
      assert.equal(prompts('Review untrusted').length, 0, 'nothing was typed into the question');
      assert.notEqual(trustedFolders()[dir]?.hasTrustDialogAccepted, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a parallel step runs two Claude sessions at once and collects both answers', async () => {
    const file = path.join(workdir, 'parallel.yaml');
    writeFileSync(
      file,
      `name: two-reviews
steps:
  - type: parallel
    id: reviews
    steps:
      - type: session
        id: alpha
        provider: claude-code
        prompt: "Review alpha"
      - type: session
        id: beta
        provider: claude-code
        prompt: "Review beta"
  - type: log
    message: "\${alpha.result} | \${beta.result}"
`,
    );
    const { detail, code, stdout } = await runFile(file);
    assert.equal(code, 0, stdout);
    assert.equal(detail.status, 'succeeded', detail.error ?? '');
    assert.match(stdout, /review of alpha: fine \| review of beta: fine/);
    const alpha = detail.steps.find((s) => s.id === 'alpha');
    const beta = detail.steps.find((s) => s.id === 'beta');
    assert.ok(alpha?.sessionId && beta?.sessionId && alpha.sessionId !== beta.sessionId, 'two sessions');
    // Both turns were in flight together: each began before the other ended.
    const [a, b] = [alpha, beta].map((s) => ({ start: Date.parse(s.startedAt), end: Date.parse(s.finishedAt ?? '') }));
    assert.ok(a && b && a.start < b.end && b.start < a.end, `overlapping: ${JSON.stringify([a, b])}`);
  });

  test('a permission wait ends when Claude asks to run a tool, with what it asks as the result', async () => {
    const file = path.join(workdir, 'permission.yaml');
    writeFileSync(
      file,
      `name: permission
steps:
  - type: session
    id: cleaner
    provider: claude-code
    args: ["--permission-mode", "default"]
    prompt: "Clean up"
    wait: { until: permission, timeout: 2m }
  - type: log
    message: "asked: \${cleaner.result}"
`,
    );
    const { detail, code, stdout } = await runFile(file);
    assert.equal(code, 0, stdout);
    assert.equal(detail.status, 'succeeded', detail.error ?? '');
    assert.match(stdout, /asked: permission: Bash rm -f victim\.txt/);
    const session = await daemon.client.call(sessionEndpoints.show, { params: { id: detail.steps[0]?.sessionId ?? '' } });
    assert.equal(session.status, 'waiting', 'the session still waits for an answer');
  });

  test('a run survives a daemon restart in the middle of a Claude turn', async () => {
    const file = path.join(workdir, 'survive.yaml');
    writeFileSync(
      file,
      `name: survive
steps:
  - type: session
    id: thinker
    provider: claude-code
    prompt: "Think slowly"
  - type: session
    session: thinker
    id: follow-up
    prompt: "Review gamma"
  - type: log
    message: "first: \${thinker.result}; then: \${follow-up.result}"
`,
    );
    const started = await daemon.cli(['workflow', 'run', file, '--detach', '--json']);
    assert.equal(started.code, 0, started.stderr);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    await waitFor('Claude to ask the model', () => prompts('Think slowly').length > 0, 60_000);
    const sessionId = (await run(id)).steps[0]?.sessionId;
    assert.ok(sessionId);
    await daemon.stop();
    await daemon.start();
    release();
    const done = await waitFor('the run to finish', async () => {
      const r = await run(id);
      return r.status === 'running' ? undefined : r;
    }, 120_000);
    assert.equal(done.status, 'succeeded', done.error ?? '');
    assert.equal(done.steps[0]?.sessionId, sessionId, 'the step kept its Claude session');
    assert.equal(done.steps[1]?.sessionId, sessionId, 'the follow-up went to the same session');
    assert.equal(done.steps[0]?.outputs.result, 'a slow answer');
    const logs = await daemon.cli(['workflow', 'logs', id]);
    assert.match(logs.stdout, /continues after a daemon restart/);
    assert.match(logs.stdout, /first: a slow answer; then: review of gamma: fine/);
    assert.equal(prompts('Think slowly').length, 1, 'the prompt was not typed twice');
  });
});
