import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { approvalEndpoints, type Approval } from '@codepiper/policies-contract';
import { auditEndpoints } from '@codepiper/audit-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { claudeBin, prepareClaudeHome, removeClaudeHome, standInClaudeSession, type ClaudeHome } from './agents/claude.js';
import { tempHome, TestDaemon, waitFor } from './harness.js';
import { answeredApproval } from './approvals.js';
import { FakeAnthropic, hasToolResult, isMainConversation, lastUserText, toolResultText } from './model-servers/anthropic.js';

/** The sessions of the first two tests: Claude's auto mode (no --permission-mode), then its default mode. */
const MODES = [['auto', 0], ['default', 1]] as const;

/** Claude's own permission prompt on the screen. */
const PROMPT = /Do you want to proceed/i;

/**
 * A stand-in daemon socket: PreToolUse requests are accepted and never
 * answered, everything else is relayed to the real daemon.
 */
async function holdPreToolUse(socket: string, daemonSocket: string): Promise<{ held: () => number; close: () => Promise<void> }> {
  let held = 0;
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if ((JSON.parse(body.toString()) as { hook_event_name?: string }).hook_event_name === 'PreToolUse') {
        held++;
        open.add(res);
        return;
      }
      const relay = http.request({ socketPath: daemonSocket, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      relay.on('error', () => res.destroy());
      relay.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    held: () => held,
    close: async () => {
      for (const res of open) res.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('nothing runs unasked: real Claude Code, no policies, daemon up, hanging and down', { timeout: 400_000 }, () => {
  let daemon: TestDaemon;
  let fake: FakeAnthropic;
  let home: ClaudeHome;
  let workdir: string;
  const sessions: SessionRecord[] = [];

  before(async () => {
    workdir = mkdtempSync('/tmp/cpt-unasked-');
    fake = await FakeAnthropic.start([
      // First: after a refusal, the next prompt comes in one message with the refused call's result.
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('slowly remove the victim'), reply: { toolUse: { name: 'Bash', input: { command: 'sleep 5 && rm -f victim.txt', description: 'Wait, then remove victim.txt' } } } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('remove the victim'), reply: { toolUse: { name: 'Bash', input: { command: 'rm -f victim.txt', description: 'Remove victim.txt' } } } },
      { when: (r) => isMainConversation(r) && hasToolResult(r), reply: (r) => ({ text: `tool said: ${toolResultText(r)?.text ?? ''}`.slice(0, 200) }) },
    ]);
    home = await prepareClaudeHome({ cwd: workdir, apiKey: 'sk-ant-unasked-test-key-0123456789', baseUrl: fake.url });
    daemon = new TestDaemon(tempHome(), { CODEPIPER_CLAUDE_BIN: claudeBin });
    // A short forwarder timeout keeps the hanging case quick.
    writeFileSync(path.join(daemon.home, 'config.yaml'), 'provider-claude-code:\n  hook_timeout_s: 12\n');
    await daemon.start();
  });
  after(async () => {
    if (!daemon.process) await daemon.start().catch(() => undefined);
    for (const s of sessions) await daemon.client.call(sessionEndpoints.kill, { params: { id: s.id } }).catch(() => undefined);
    await daemon?.dispose();
    await fake?.close();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
    await removeClaudeHome(home);
  });

  const victim = () => path.join(workdir, 'victim.txt');
  const start = async (options: Record<string, unknown>): Promise<SessionRecord> => {
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'claude-code', cwd: workdir, env: { ...home.env }, options } });
    sessions.push(session);
    await waitFor('Claude to be idle', async () => (await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status === 'idle', 60_000);
    return session;
  };
  const show = (session: SessionRecord) => daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
  const pendingFor = (session: SessionRecord) =>
    waitFor(
      'a pending approval for the rm',
      async () => (await daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.find((a: Approval) => a.sessionId === session.id && a.tool === 'Bash'),
      60_000,
    );
  const send = async (session: SessionRecord, text: string) => {
    const sent = await daemon.cli(['send', session.id, text]);
    assert.equal(sent.code, 0, sent.stderr);
  };
  /** Claude's screen read straight from tmux (works with the daemon down). */
  const screen = (session: SessionRecord) => daemon.tmux(['capture-pane', '-p', '-t', `cp-${session.id}`]).stdout;

  /** The rm is asked about as a pending approval; approved from the CLI, it runs; the audit says who answered. */
  const askedThenApproved = async (session: SessionRecord) => {
    writeFileSync(victim(), 'x');
    await send(session, 'please remove the victim file');
    const approval = await pendingFor(session);
    assert.equal(approval.policyName, 'default');
    assert.deepEqual((approval.input as { command: string }).command, 'rm -f victim.txt');
    assert.equal(readFileSync(victim(), 'utf8'), 'x', 'nothing runs while the approval is pending');
    const waiting = await show(session);
    assert.equal(waiting.status, 'waiting');
    const listed = await daemon.cli(['approvals']);
    assert.match(listed.stdout, new RegExp(`${approval.id.slice(0, 8)}\\s+${session.id.slice(0, 8)}\\s+Bash`));
    const approved = await daemon.cli(['approve', approval.id.slice(0, 8)]);
    assert.equal(approved.code, 0, approved.stderr);
    await waitFor('the approved rm to run', () => !existsSync(victim()), 30_000);
    const { entries } = await daemon.client.call(auditEndpoints.list, { query: { session: session.id } });
    assert.deepEqual(
      entries.map((e) => [e.source, e.decision, e.policyName, e.answeredBy]),
      [
        ['claude-code.check', 'ask', 'default', 'default'],
        ['claude-code.prompt', 'allow', 'default', 'unix:local'],
      ],
    );
  };

  test('auto mode (no --permission-mode): an rm no policy covers waits for a person, approved from the CLI it runs', async () => {
    const session = await start({});
    assert.ok(!session.command.includes('--permission-mode'));
    await askedThenApproved(session);
  });

  test('default mode: the same question, the same approval', async () => {
    await askedThenApproved(await start({ permissionMode: 'default' }));
  });

  test('answered in Claude’s own prompt in the terminal: the approval resolves, audited as the terminal’s answer', async () => {
    const session = sessions[1] as SessionRecord;
    const target = `cp-${session.id}`;
    const lastAudit = async () => (await daemon.client.call(auditEndpoints.list, { query: { session: session.id } })).entries.at(-1);
    const answeredInTerminal = async (keys: string, status: 'approved' | 'denied', prompt = 'please remove the victim file') => {
      writeFileSync(victim(), 'x');
      await send(session, prompt);
      const approval = await pendingFor(session);
      await waitFor('Claude’s own prompt', () => /Esc to cancel/.test(screen(session)) || undefined, 30_000);
      // As a person at `tmux attach` would, once the prompt is up (keys typed the instant it is drawn are lost): 1 picks Yes, Esc refuses.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(daemon.tmux(['send-keys', '-t', target, keys]).code, 0);
      const answered = await answeredApproval(daemon.client, approval.id);
      assert.deepEqual([answered.status, answered.answeredBy], [status, 'terminal']);
      // The audit row follows the answer by a moment.
      const audited = await waitFor('the answer in the audit', async () => ((await lastAudit())?.source === 'claude-code.prompt' ? lastAudit() : undefined), 10_000);
      assert.deepEqual([audited?.source, audited?.decision, audited?.answeredBy], ['claude-code.prompt', status === 'approved' ? 'allow' : 'deny', 'terminal']);
      await waitFor('Claude to be idle', async () => (await show(session)).status === 'idle', 30_000);
    };
    await answeredInTerminal('1', 'approved');
    assert.equal(existsSync(victim()), false, 'the rm said yes to ran');
    // A yes to a command that takes a while: the call's PostToolUse comes seconds after the answer.
    await answeredInTerminal('1', 'approved', 'please slowly remove the victim file');
    assert.equal(existsSync(victim()), false, 'the rm said yes to ran');
    await answeredInTerminal('Escape', 'denied');
    assert.equal(readFileSync(victim(), 'utf8'), 'x', 'the refused rm did not run');
  });

  test('a question pending across a daemon restart comes back as the same approval; answered anywhere, the answer reaches Claude’s prompt', async () => {
    const session = sessions[1] as SessionRecord;
    const target = `cp-${session.id}`;
    const lastAudit = async () => (await daemon.client.call(auditEndpoints.list, { query: { session: session.id } })).entries.at(-1);
    const cases: { answer: () => Promise<void>; status: 'approved' | 'denied'; by: string }[] = [
      { answer: async () => assert.equal((await daemon.cli(['approve', approvalId.slice(0, 8)])).code, 0), status: 'approved', by: 'unix:local' },
      { answer: async () => assert.equal((await daemon.cli(['deny', approvalId.slice(0, 8)])).code, 0), status: 'denied', by: 'unix:local' },
      { answer: async () => assert.equal(daemon.tmux(['send-keys', '-t', target, '1']).code, 0), status: 'approved', by: 'terminal' },
      { answer: async () => assert.equal(daemon.tmux(['send-keys', '-t', target, 'Escape']).code, 0), status: 'denied', by: 'terminal' },
    ];
    let approvalId = '';
    for (const { answer, status, by } of cases) {
      writeFileSync(victim(), 'x');
      await send(session, 'please remove the victim file');
      approvalId = (await pendingFor(session)).id;
      await waitFor('Claude’s own prompt', () => /Esc to cancel/.test(screen(session)) || undefined, 30_000);
      await daemon.stop();
      await daemon.start();
      const again = await waitFor('the same approval, pending again', async () => (await daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.find((a) => a.id === approvalId), 30_000);
      assert.equal(again.sessionId, session.id);
      assert.equal((await show(session)).status, 'waiting');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await answer();
      const answered = await answeredApproval(daemon.client, approvalId);
      assert.deepEqual([answered.status, answered.answeredBy], [status, by], `answered by ${by}: ${screen(session)}`);
      await waitFor('Claude to be idle', async () => (await show(session)).status === 'idle', 30_000);
      if (status === 'approved') assert.equal(existsSync(victim()), false, `the rm approved by ${by} ran`);
      else assert.equal(readFileSync(victim(), 'utf8'), 'x', `the rm denied by ${by} did not run`);
      const audited = await waitFor('the answer in the audit', async () => ((await lastAudit())?.answeredBy === by ? lastAudit() : undefined), 10_000);
      assert.equal(audited?.decision, status === 'approved' ? 'allow' : 'deny');
    }
  });

  for (const [mode, index] of MODES) {
    test(`${mode} mode, a daemon that never answers PreToolUse: the forwarder times out into an ask; nothing runs`, async () => {
      const session = sessions[index] as SessionRecord;
      const forwarder = path.join(path.dirname(String(session.metadata.settingsPath)), 'hook.sh');
      const original = readFileSync(forwarder, 'utf8');
      const hanging = await holdPreToolUse(path.join(workdir, 'hang.sock'), daemon.agentSocketPath);
      const hangingForwarder = original.replace(`'${daemon.agentSocketPath}'`, `'${path.join(workdir, 'hang.sock')}'`);
      assert.notEqual(hangingForwarder, original, 'the forwarder calls the agents’ socket');
      writeFileSync(forwarder, hangingForwarder);
      try {
        writeFileSync(victim(), 'x');
        await send(session, 'please remove the victim file');
        await waitFor('the PreToolUse to be held', () => hanging.held() > 0 || undefined, 60_000);
        // After the forwarder's timeout Claude asks: the PermissionRequest reaches the daemon as a pending approval.
        const approval = await pendingFor(session);
        assert.equal(readFileSync(victim(), 'utf8'), 'x', 'the file is still there');
        const denied = await daemon.cli(['deny', approval.id.slice(0, 8), '--reason', 'not now']);
        assert.equal(denied.code, 0, denied.stderr);
        await waitFor('the session to be idle', async () => (await show(session)).status === 'idle', 30_000);
        assert.equal(readFileSync(victim(), 'utf8'), 'x', 'the denied rm did not run');
      } finally {
        writeFileSync(forwarder, original);
        await hanging.close();
      }
    });

    test(`${mode} mode, the daemon down: Claude shows its own prompt, the rm does not run`, async () => {
      const session = sessions[index] as SessionRecord;
      const ran = fake.messageRequests().filter((r) => isMainConversation(r) && hasToolResult(r)).length;
      writeFileSync(victim(), 'x');
      await daemon.stop();
      const target = `cp-${session.id}`;
      assert.equal(daemon.tmux(['send-keys', '-t', target, '-l', 'please remove the victim file']).code, 0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(daemon.tmux(['send-keys', '-t', target, 'Enter']).code, 0);
      await waitFor('Claude’s own permission prompt', () => PROMPT.test(screen(session)) || undefined, 60_000);
      assert.match(screen(session), /rm -f victim\.txt/);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(readFileSync(victim(), 'utf8'), 'x', 'the file is still there');
      assert.equal(fake.messageRequests().filter((r) => isMainConversation(r) && hasToolResult(r)).length, ran, 'no tool result went to the model');
      // Esc at the prompt refuses; the daemon comes back for the clean-up.
      daemon.tmux(['send-keys', '-t', target, 'Escape']);
      await daemon.start();
      assert.equal(readFileSync(victim(), 'utf8'), 'x', 'the refused rm did not run');
      // Back, the daemon audits what was decided without it: this rm, and the one whose PreToolUse the hanging daemon never answered.
      const offline = (await daemon.client.call(auditEndpoints.list, { query: { session: session.id } })).entries.filter((e) => e.answeredBy === 'daemon down');
      const entry = ['claude-code.offline', 'Bash', 'rm -f victim.txt', 'ask', 'asked in the terminal without the daemon: no sign that it ran'];
      assert.deepEqual(
        offline.map((e) => [e.source, e.tool, (e.input as { command: string }).command, e.decision, e.reason]),
        [entry, entry],
      );
    });
  }
});

describe('nothing runs unasked: under default_action: deny a call no policy allows is denied (stand-in claude, the real forwarder)', { timeout: 60_000 }, () => {
  const suite = standInClaudeSession('policies:\n  default_action: deny\n');
  const forward = (event: string): unknown => suite.hook({ hook_event_name: event, tool_name: 'Bash', tool_input: { command: 'rm -f victim.txt' } });

  test('PreToolUse and PermissionRequest are denied with the reason; no approval is pending', async () => {
    const reason = 'no policy matched; the default action is deny';
    assert.deepEqual(forward('PreToolUse'), { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: reason } });
    assert.deepEqual(forward('PermissionRequest'), { hookSpecificOutput: { hookEventName: 'PermissionRequest', decision: { behavior: 'deny', message: reason } } });
    assert.deepEqual((await suite.daemon.client.call(approvalEndpoints.list, { query: {} })).approvals, []);
  });
});
