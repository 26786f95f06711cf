import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { approvalEndpoints, policyEndpoints, type Approval, type Policy, type PolicyDecision } from '@codepiper/policies-contract';
import { auditEndpoints, type AuditEntry } from '@codepiper/audit-contract';
import { envSetEndpoints, workspaceEndpoints } from '@codepiper/workspaces-contract';
import { eventEndpoints } from '@codepiper/events-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { claudeBin, prepareClaudeHome, removeClaudeHome, standInClaudeSession, type ClaudeHome } from './agents/claude.js';
import { repoRoot, suiteDaemon, TestDaemon, waitFor } from './harness.js';
import { answeredApproval, approvalNow } from './approvals.js';
import { FakeAnthropic, hasToolResult, isMainConversation, lastUserText, toolResultText } from './model-servers/anthropic.js';

describe('permission policies through the CLI', () => {
  const suite = suiteDaemon();
  const cli = (args: string[]) => suite.daemon.cli(args);
  /** The user's policies: the built-in guard is always there. */
  const policies = async (): Promise<Policy[]> => (await suite.daemon.client.call(policyEndpoints.list, { query: {} })).policies.filter((p) => !p.builtin);
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await cli([...args, '--json']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };
  const startCat = async (): Promise<SessionRecord> => {
    const result = await cli(['start', '-p', 'shell', '-d', suite.workdir, '--json', '--', 'cat']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as SessionRecord;
  };
  const clear = async () => {
    for (const p of await policies()) assert.equal((await cli(['policy', 'delete', p.id])).code, 0);
  };

  test('create, list, show, test: the decision and the rule that made it', async () => {
    await clear();
    const read = await json<Policy>(['policy', 'create', '--action', 'allow', '--tool', 'Read', '--reason', 'File reads are safe']);
    assert.equal(read.action, 'allow');
    assert.equal(read.enabled, true);
    const rm = await json<Policy>(['policy', 'create', '--action', 'deny', '--tool', 'Bash', '--args', '{"command":"rm *"}', '--reason', 'No mass deletes', '--name', 'no-rm']);
    assert.deepEqual(rm.args, { command: 'rm *' });
    const push = await json<Policy>(['policy', 'create', '--action', 'allow', '--rule', 'Bash(git push:*)', '--priority', '10', '--name', 'push']);
    assert.equal(push.tool, 'Bash');
    assert.equal(push.priority, 10);

    const list = await cli(['policy', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /push\s+allow\s+10\s+-\s+Bash\(git push:\*\)/);
    assert.match(list.stdout, /no-rm\s+deny\s+0/);
    assert.deepEqual((await json<{ policies: Policy[] }>(['policy', 'list'])).policies.map((p) => p.name), ['builtin:control-plane-guard', 'push', 'no-rm', read.name], 'built-ins first, then in the order they are considered');

    const show = await cli(['policy', 'show', 'no-rm']);
    assert.match(show.stdout, /reason:\s+No mass deletes/);

    const denied = await cli(['policy', 'test', '--tool', 'Bash', '--args', '{"command":"ls && rm -rf build"}']);
    assert.equal(denied.code, 0, denied.stderr);
    assert.match(denied.stdout, /^deny: No mass deletes\nrule: tool=Bash args=\{"command":"rm \*"\} \(policy no-rm/);
    const pushed = await json<PolicyDecision>(['policy', 'test', '--tool', 'Bash', '--args', '{"command":"git push origin main"}']);
    assert.equal(pushed.decision, 'allow');
    assert.equal(pushed.rule, 'Bash(git push:*)');
    const other = await json<PolicyDecision>(['policy', 'test', '--tool', 'WebFetch', '--args', '{"url":"https://x"}']);
    assert.deepEqual([other.decision, other.rule, other.policy], ['ask', 'default', null]);

    const disabled = await json<Policy>(['policy', 'disable', 'push']);
    assert.equal(disabled.enabled, false);
    assert.equal((await json<PolicyDecision>(['policy', 'test', '--tool', 'Bash', '--args', '{"command":"git push"}'])).decision, 'ask');
    await json<Policy>(['policy', 'enable', 'push']);
    const updated = await json<Policy>(['policy', 'update', 'push', '--action', 'deny', '--reason', 'no pushing']);
    assert.equal(updated.action, 'deny');
    assert.equal(updated.rule, 'Bash(git push:*)');
    assert.equal((await json<PolicyDecision>(['policy', 'test', '--tool', 'Bash', '--args', '{"command":"git push"}'])).reason, 'no pushing');

    assert.equal((await cli(['policy', 'delete', 'push'])).code, 0);
    const gone = await cli(['policy', 'show', 'push']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /not found/);
  });

  test('bad input: a clear error, a non-zero exit, nothing stored', async () => {
    await clear();
    const cases: [string[], RegExp][] = [
      [['--action', 'maybe', '--tool', 'Read'], /--action must be allow, deny or ask/],
      [['--action', 'deny', '--tool', 'Bash', '--args', '{"command":'], /--args is not valid JSON/],
      [['--action', 'deny', '--tool', 'Bash', '--args', '{"command":5}'], /must be a string/],
      [['--action', 'deny', '--rule', 'Bash(git push:*'], /bad rule "Bash\(git push:\*": missing the closing/],
      [['--action', 'deny', '--rule', 'Frobnicate(x)'], /bad rule/],
      [['--action', 'deny', '--tool', 'Bash', '--session', 'no-such-session'], /not found|no session/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(['policy', 'create', ...args]);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, /^codepiper: /);
      assert.match(result.stderr, message, args.join(' '));
    }
    // The API itself refuses a non-string glob, whatever the client.
    await assert.rejects(suite.daemon.client.call(policyEndpoints.create, { body: { action: 'deny', tool: 'Bash', args: { command: 5 } } }), /args\.command must be a string glob/);
    const badSet = path.join(suite.workdir, 'bad.yaml');
    writeFileSync(badSet, 'policies:\n  - {name: fine, action: allow, tool: Read}\n  - {name: broken, action: perhaps, tool: Bash}\n');
    const imported = await cli(['policy', 'import', badSet]);
    assert.notEqual(imported.code, 0);
    assert.ok(imported.stderr.includes(`${badSet}:3:20: policies.1.action: expected one of "allow", "deny", "ask", got "perhaps"`), imported.stderr);
    assert.deepEqual(await policies(), [], 'nothing stored');
  });

  test('export, then import the YAML into another daemon state', async () => {
    await clear();
    await json<Policy>(['policy', 'create', '--action', 'deny', '--tool', 'Bash', '--args', '{"command":"rm *"}', '--name', 'no-rm', '--reason', 'No mass deletes']);
    await json<Policy>(['policy', 'create', '--action', 'allow', '--rule', 'Read(src/**)', '--name', 'src', '--priority', '2']);
    const exported = await cli(['policy', 'export']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^policies:\n {2}- name: src\n {4}action: allow\n {4}rule: Read\(src\/\*\*\)\n {4}priority: 2\n/);
    const file = path.join(suite.workdir, 'set.yaml');
    writeFileSync(file, exported.stdout);
    await clear();
    const imported = await cli(['policy', 'import', file]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /imported 2 policies .* \(2 new, 0 replaced\)/);
    const again = await json<{ created: number; replaced: number }>(['policy', 'import', file]);
    assert.deepEqual([again.created, again.replaced], [0, 2], 'the same names replace, not duplicate');
    assert.deepEqual((await policies()).map((p) => p.name), ['src', 'no-rm']);
    assert.equal((await json<PolicyDecision>(['policy', 'test', '--tool', 'Read', '--args', '{"file_path":"/r/src/a.ts"}'])).decision, 'allow');
  });

  test('the built-in control-plane guard: listed, asks about the home under allow-everything, can be disabled (with a warning), not deleted', async () => {
    await clear();
    const guard = 'builtin:control-plane-guard';
    const list = await cli(['policy', 'list']);
    assert.match(list.stdout, /builtin:control-plane-guard\s+ask\s+-\s+-\s+\(built-in\) the daemon's home and socket/);
    const listed = (await json<{ policies: Policy[] }>(['policy', 'list'])).policies.find((p) => p.name === guard);
    assert.deepEqual([listed?.builtin, listed?.enabled, listed?.action], [true, true, 'ask']);
    await json<Policy>(['policy', 'create', '--action', 'allow', '--tool', '*', '--name', 'everything']);
    const file = path.join(suite.daemon.home, 'config.yaml');
    const asked = await cli(['policy', 'test', '--tool', 'Read', '--args', JSON.stringify({ file_path: file })]);
    assert.equal(asked.code, 0, asked.stderr);
    const [first, second] = asked.stdout.split('\n');
    assert.equal(first, `ask: \`${file}\` is in the daemon's home (${suite.daemon.home}); calls that touch the daemon's control plane need a person's approval (${guard})`);
    assert.match(second ?? '', /^rule: built-in: .* \(policy builtin:control-plane-guard, [0-9a-f]{8}\)$/);
    assert.equal((await json<PolicyDecision>(['policy', 'test', '--tool', 'Read', '--args', '{"file_path":"/etc/hostname"}'])).decision, 'allow', 'elsewhere the user decides');

    const deleted = await cli(['policy', 'delete', guard]);
    assert.notEqual(deleted.code, 0);
    assert.match(deleted.stderr, /builtin:control-plane-guard is built in: it cannot be deleted/);
    assert.notEqual((await cli(['policy', 'update', guard, '--action', 'allow'])).code, 0);
    const disabled = await cli(['policy', 'disable', guard]);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stderr, /warning: builtin:control-plane-guard is off/);
    assert.equal((await json<PolicyDecision>(['policy', 'test', '--tool', 'Read', '--args', JSON.stringify({ file_path: file })])).decision, 'allow', 'disabled: the user’s policies decide');
    assert.doesNotMatch((await cli(['policy', 'export'])).stdout, /builtin/, 'not exported');
    await json<Policy>(['policy', 'enable', guard]);
    assert.equal((await json<PolicyDecision>(['policy', 'test', '--tool', 'Read', '--args', JSON.stringify({ file_path: file })])).decision, 'ask');
    const audit = await json<{ entries: AuditEntry[] }>(['audit', '--tool', 'policies.builtin']);
    assert.deepEqual(audit.entries.map((e) => e.reason), [`${guard} disabled`, `${guard} enabled`]);
  });

  test('session-scoped policies apply only to their session', async () => {
    await clear();
    const [one, two] = [await startCat(), await startCat()];
    const scoped = await json<Policy>(['policy', 'create', '--action', 'deny', '--tool', 'Bash', '--session', one.id.slice(0, 8), '--name', 'scoped']);
    assert.equal(scoped.session, one.id, 'the prefix is resolved to the full id');
    const test = (session: string) => json<PolicyDecision>(['policy', 'test', '--tool', 'Bash', '--args', '{"command":"ls"}', '--session', session]);
    assert.equal((await test(one.id)).decision, 'deny');
    assert.equal((await test(two.id)).decision, 'ask');
    assert.equal((await json<PolicyDecision>(['policy', 'test', '--tool', 'Bash', '--args', '{"command":"ls"}'])).decision, 'ask');
  });

  test('a terminal_input deny refuses `send` with the reason; the text is not typed; every decision is audited', async () => {
    await clear();
    await json<Policy>(['policy', 'create', '--action', 'deny', '--tool', 'terminal_input', '--args', '{"text":"rm *"}', '--reason', 'no deletes typed', '--name', 'typed-rm']);
    const session = await startCat();
    const screen = async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text;

    const refused = await cli(['send', session.id, 'echo hi && rm -rf important']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /codepiper: input refused: no deletes typed/);
    const allowed = await cli(['send', session.id, 'harmless words']);
    assert.equal(allowed.code, 0, allowed.stderr);
    await waitFor('the allowed text', async () => (await screen()).includes('harmless words'));
    assert.ok(!(await screen()).includes('important'), 'the refused text was never typed');

    const audit = await json<{ entries: AuditEntry[] }>(['audit', '--session', session.id.slice(0, 8)]);
    assert.deepEqual(
      audit.entries.map((e) => [e.tool, e.decision, e.policyName, e.answeredBy]),
      [
        ['terminal_input', 'deny', 'typed-rm', 'policy'],
        ['terminal_input', 'ask', 'default', 'default'],
      ],
    );
    assert.deepEqual(audit.entries[0]?.input, { text: 'echo hi && rm -rf important' });
    assert.equal(audit.entries[0]?.reason, 'no deletes typed');
    assert.ok((audit.entries[0]?.durationMs ?? -1) >= 0);

    // The dashboard asks for the newest entries first.
    const newest = await suite.daemon.client.call(auditEndpoints.list, { query: { session: session.id, limit: 1, newest: true } });
    assert.deepEqual(newest.entries.map((e) => e.decision), ['ask']);
    const latestEvents = await suite.daemon.client.call(eventEndpoints.list, { query: { session: session.id, limit: 2, newest: true } });
    assert.ok(latestEvents.events.length === 2 && (latestEvents.events[0]?.id ?? 0) > (latestEvents.events[1]?.id ?? 0), 'events newest first');
    const denies = await json<{ entries: AuditEntry[] }>(['audit', '--decision', 'deny', '--since', '1h']);
    assert.ok(denies.entries.length >= 1 && denies.entries.every((e) => e.decision === 'deny'));
    assert.equal((await json<{ entries: AuditEntry[] }>(['audit', '--since', '2999-01-01'])).entries.length, 0);
    const jsonl = await cli(['audit', '--session', session.id, '--jsonl']);
    const lines = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
    assert.equal(lines.length, 2);
    const table = await cli(['audit', '--session', session.id]);
    assert.match(table.stdout, /terminal_input\s+deny\s+typed-rm/);
    const bad = await cli(['audit', '--decision', 'perhaps']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--decision must be allow, deny or ask/);

    const { events } = await suite.daemon.client.call(eventEndpoints.list, { query: { session: session.id, type: 'policy.*' } });
    assert.deepEqual(
      events.map((e) => [e.type, (e.payload as { decision: string }).decision]),
      [
        ['policy.decision', 'deny'],
        ['policy.decision', 'ask'],
      ],
    );
  });

  test('start --dangerous: the session runs without policies, said loudly; its calls go through and are audited as bypass; unbypass ends it', async () => {
    await clear();
    await json<Policy>(['policy', 'create', '--action', 'deny', '--tool', 'terminal_input', '--args', '{"text":"rm *"}', '--reason', 'no deletes typed', '--name', 'typed-rm']);
    const started = await cli(['start', '-p', 'shell', '-d', suite.workdir, '--dangerous', '--', 'cat']);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /^started [0-9a-f]{8} \S+ \(shell\) in .*, WITHOUT POLICIES$/m);
    assert.match(started.stderr, /^warning: session [0-9a-f]{8} runs without policies: every tool call is allowed \(and recorded in the audit trail\)$/m);
    const id = /^started ([0-9a-f]{8})/.exec(started.stdout)![1]!;
    const screen = async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id } })).text;

    assert.equal((await cli(['send', id, 'rm -rf typed-anyway'])).code, 0, 'the deny policy does not apply');
    await waitFor('the text typed', async () => (await screen()).includes('rm -rf typed-anyway'));
    const decision = await json<PolicyDecision>(['policy', 'test', '--tool', 'terminal_input', '--args', '{"text":"rm -rf x"}', '--session', id]);
    assert.equal(decision.decision, 'allow');
    assert.match(decision.reason, /the session runs without policies \(start --dangerous\); they would have said deny: no deletes typed/);
    const audit = await json<{ entries: AuditEntry[] }>(['audit', '--session', id]);
    assert.deepEqual(audit.entries.map((e) => [e.tool, e.decision, e.answeredBy]), [['terminal_input', 'allow', 'bypass']]);
    const { events } = await suite.daemon.client.call(eventEndpoints.list, { query: { session: (await suite.daemon.client.call(sessionEndpoints.show, { params: { id } })).id, type: 'policy.bypassed' } });
    assert.deepEqual(events.map((e) => e.payload), [{ by: 'unix:local' }]);
    assert.equal((await cli(['policy', 'bypass', id])).code, 0);
    const again = await suite.daemon.client.call(eventEndpoints.list, { query: { session: events[0]!.sessionId!, type: 'policy.bypassed' } });
    assert.equal(again.events.length, 1, 'asking again for what holds tells nothing new');

    const back = await cli(['policy', 'unbypass', id]);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /is under the policies$/m);
    const refused = await cli(['send', id, 'rm -rf now-refused']);
    assert.match(refused.stderr, /input refused: no deletes typed/);
    const listed = await suite.daemon.client.call(policyEndpoints.bypassed);
    assert.deepEqual(listed.bypasses, []);
  });

  test('policy sets: their policies apply only to the sessions they are attached to (start --policy-set, policy sets); an unknown set is refused', async () => {
    await clear();
    const inSet = await json<Policy>(['policy', 'create', '--action', 'deny', '--tool', 'terminal_input', '--args', '{"text":"rm *"}', '--set', 'strict', '--name', 'strict-rm', '--reason', 'strict sessions delete nothing']);
    assert.equal(inSet.set, 'strict');
    assert.match((await cli(['policy', 'list'])).stdout, /^[0-9a-f]{8} +strict-rm +deny +0 +set strict +terminal_input/m);

    const started = await cli(['start', '-p', 'shell', '-d', suite.workdir, '--policy-set', 'strict', '--json', '--', 'cat']);
    assert.equal(started.code, 0, started.stderr);
    const strict = JSON.parse(started.stdout) as SessionRecord;
    const free = await startCat();
    const refused = await cli(['send', strict.id, 'rm -rf src']);
    assert.match(refused.stderr, /input refused: strict sessions delete nothing/);
    assert.equal((await cli(['send', free.id, 'rm -rf src'])).code, 0, 'a session without the set is not under it');

    assert.equal((await cli(['policy', 'sets', free.id])).stdout, `session ${free.id.slice(0, 8)}: no policy sets\n`);
    assert.equal((await cli(['policy', 'sets', free.id, '--set', 'strict'])).stdout, `session ${free.id.slice(0, 8)}: policy sets strict\n`);
    assert.match((await cli(['send', free.id, 'rm -rf lib'])).stderr, /input refused: strict sessions delete nothing/);
    assert.equal((await cli(['policy', 'sets', free.id, '--set', 'none'])).code, 0);
    assert.equal((await cli(['send', free.id, 'rm -rf lib'])).code, 0);

    const unknown = await cli(['policy', 'sets', free.id, '--set', 'stirct']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no policy is in a set named "stirct"/);
    const typoAt = new Date().toISOString();
    const typo = await cli(['start', '-p', 'shell', '-d', suite.workdir, '--policy-set', 'stirct', '--', 'cat']);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /no policy is in a set named "stirct"/);
    const typoSessions = (await suite.daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.filter((s) => s.createdAt >= typoAt);
    assert.deepEqual(typoSessions, [], 'a session that cannot be put under its set is not started');

    const imported = await cli(['policy', 'import', path.join(repoRoot, 'examples', 'policy-sets', 'team-baseline.yaml'), '--set', 'team']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.ok((await policies()).filter((p) => p.set === 'team').length >= 10, 'every imported policy is in the set');
    const { yaml } = await suite.daemon.client.call(policyEndpoints.export);
    assert.match(yaml, /set: team/);
  });

  test('policy default ask|deny: what no policy matches, kept over config.yaml, audited; anything else refused', async () => {
    await clear();
    assert.equal((await cli(['policy', 'default'])).stdout, 'default action: ask (from config.yaml)\n');
    const set = await cli(['policy', 'default', 'deny']);
    assert.equal(set.stdout, 'default action: deny (set with codepiper policy default)\n');
    const decision = await json<PolicyDecision>(['policy', 'test', '--tool', 'WebFetch', '--args', '{"url":"https://example.com"}']);
    assert.deepEqual([decision.decision, decision.rule], ['deny', 'default']);
    const bad = await cli(['policy', 'default', 'allow']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /policy default takes ask or deny, not "allow"/);
    const api = await suite.daemon.client.call(policyEndpoints.setDefaultAction, { body: { action: 'allow' as 'ask' } }).catch((e: unknown) => e);
    assert.match(String(api), /action/);
    const { entries } = await suite.daemon.client.call(auditEndpoints.list, { query: {} });
    assert.ok(entries.some((e) => e.tool === 'policies.default' && e.reason === 'default action ask → deny' && e.answeredBy === 'unix:local'), 'the change is in the audit trail');
    assert.equal((await cli(['policy', 'default', 'ask'])).code, 0);
  });
});

describe('policies answer Claude Code hooks (stand-in claude, the real hook forwarder)', { timeout: 60_000 }, () => {
  // A plugin slow to stop: a daemon stop takes seconds after it cut the hooks in flight, as on a busy machine.
  const suite = standInClaudeSession(`plugins:\n  - ${path.join(repoRoot, 'tests', 'fixtures', 'plugins', 'slow-stop.mjs')}\n`);
  const forward = (event: string, tool: string, input: object): unknown => suite.hook({ hook_event_name: event, tool_name: tool, tool_input: input });

  test('deny, allow, explicit ask and the default, in Claude’s own output contract; each decision audited', async () => {
    const create = async (args: string[]) => {
      const result = await suite.daemon.cli(['policy', 'create', ...args]);
      assert.equal(result.code, 0, result.stderr);
    };
    await create(['--action', 'deny', '--tool', 'Bash', '--args', '{"command":"rm *"}', '--reason', 'No mass deletes', '--name', 'no-rm']);
    await create(['--action', 'allow', '--tool', 'Read', '--reason', 'File reads are safe', '--name', 'reads']);
    await create(['--action', 'ask', '--rule', 'Bash(git push:*)', '--name', 'ask-push']);

    assert.deepEqual(forward('PreToolUse', 'Bash', { command: 'ls && rm -rf build' }), {
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'No mass deletes' },
    });
    assert.deepEqual(forward('PreToolUse', 'Read', { file_path: '/etc/hostname' }), {
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow', permissionDecisionReason: 'File reads are safe' },
    });
    assert.deepEqual(forward('PreToolUse', 'Bash', { command: 'git push origin' }), {
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'ask', permissionDecisionReason: 'policy ask-push: ask Bash(git push:*)' },
    });
    assert.deepEqual(
      forward('PreToolUse', 'WebFetch', { url: 'https://example.com' }),
      { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'ask', permissionDecisionReason: 'no policy matched; the default action is ask' } },
      'the default ask is said explicitly, so that auto mode cannot decide alone',
    );
    assert.deepEqual(forward('PermissionRequest', 'Bash', { command: 'rm -rf x' }), {
      hookSpecificOutput: { hookEventName: 'PermissionRequest', decision: { behavior: 'deny', message: 'No mass deletes' } },
    });

    const { entries } = await suite.daemon.client.call(auditEndpoints.list, { query: { session: suite.session.id } });
    assert.deepEqual(
      entries.map((e) => [e.source, e.tool, e.decision, e.policyName]),
      [
        ['claude-code.check', 'Bash', 'deny', 'no-rm'],
        ['claude-code.check', 'Read', 'allow', 'reads'],
        ['claude-code.check', 'Bash', 'ask', 'ask-push'],
        ['claude-code.check', 'WebFetch', 'ask', 'default'],
        ['claude-code.prompt', 'Bash', 'deny', 'no-rm'],
      ],
    );
    assert.deepEqual(entries[0]?.input, { command: 'ls && rm -rf build' });
  });

  /** Runs the forwarder as Claude does, without waiting: the hook blocks while an approval is pending. */
  const forwardLater = (event: string, tool: string, input: object): Promise<{ reply: unknown; code: number | null }> & { hook: ChildProcess } => {
    const script = path.join(path.dirname(String(suite.session.metadata.settingsPath)), 'hook.sh');
    const hook = spawn('sh', ['-c', `exec '${script}' ${event}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = new Promise<{ reply: unknown; code: number | null }>((resolve, reject) => {
      let out = '';
      hook.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      hook.on('error', reject);
      hook.on('close', (code) => resolve({ reply: out ? (JSON.parse(out) as unknown) : undefined, code }));
    });
    hook.stdin.end(JSON.stringify({ session_id: suite.session.id, hook_event_name: event, tool_name: tool, tool_input: input }));
    return Object.assign(done, { hook });
  };
  const pending = (tool: string) =>
    waitFor(`a pending approval for ${tool}`, async () => {
      const result = await suite.daemon.cli(['approvals', '--json']);
      return (JSON.parse(result.stdout) as { approvals: Approval[] }).approvals.find((a) => a.tool === tool && a.status === 'pending');
    });

  test('remote approvals: an ask becomes a pending approval; approve / deny from the CLI answer Claude at once', async () => {
    const created = await suite.daemon.cli(['policy', 'create', '--action', 'ask', '--tool', 'WebFetch', '--name', 'ask-fetch', '--reason', 'fetches need a person']);
    assert.equal(created.code, 0, created.stderr);

    const first = forwardLater('PermissionRequest', 'WebFetch', { url: 'https://example.com/a' });
    const approval = await pending('WebFetch');
    assert.equal(approval.reason, 'fetches need a person');
    assert.equal(approval.policyName, 'ask-fetch');
    const listed = await suite.daemon.cli(['approvals']);
    assert.match(listed.stdout, new RegExp(`${approval.id.slice(0, 8)}\\s+${suite.session.id.slice(0, 8)}\\s+WebFetch`));
    const approved = await suite.daemon.cli(['approve', approval.id.slice(0, 8), '--remember']);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /approved .* \(remembered as policy/);
    // The hook answers as soon as the approval is answered (an expired one would end it with {}).
    const { reply } = await first;
    assert.deepEqual(reply, { hookSpecificOutput: { hookEventName: 'PermissionRequest', decision: { behavior: 'allow', message: 'approved by unix:local' } } });
    const again = await suite.daemon.cli(['approve', approval.id]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already approved/);

    // --remember: the same call is now allowed by a policy; another URL still asks.
    const same = await suite.daemon.client.call(policyEndpoints.test, { body: { tool: 'WebFetch', args: { url: 'https://example.com/a' } } });
    assert.equal(same.decision, 'allow');
    assert.equal((await suite.daemon.client.call(policyEndpoints.test, { body: { tool: 'WebFetch', args: { url: 'https://example.com/b' } } })).decision, 'ask');

    const second = forwardLater('PermissionRequest', 'WebFetch', { url: 'https://example.com/b' });
    const toDeny = await pending('WebFetch');
    const denied = await suite.daemon.cli(['deny', toDeny.id, '--reason', 'not that site']);
    assert.equal(denied.code, 0, denied.stderr);
    assert.deepEqual((await second).reply, { hookSpecificOutput: { hookEventName: 'PermissionRequest', decision: { behavior: 'deny', message: 'not that site' } } });

    const { entries } = await suite.daemon.client.call(auditEndpoints.list, { query: { session: suite.session.id, decision: 'deny' } });
    const last = entries.at(-1);
    assert.deepEqual([last?.tool, last?.answeredBy, last?.reason, last?.policyName], ['WebFetch', 'unix:local', 'not that site', 'ask-fetch']);
    assert.ok((last?.durationMs ?? 0) > 0);
    const allowed = (await suite.daemon.client.call(auditEndpoints.list, { query: { session: suite.session.id, decision: 'allow' } })).entries.at(-1);
    assert.deepEqual([allowed?.tool, allowed?.answeredBy], ['WebFetch', 'unix:local']);
  });

  const approvalOf = (id: string): Promise<Approval | undefined> => approvalNow(suite.daemon.client, id);
  const lastAudit = async () => (await suite.daemon.client.call(auditEndpoints.list, { query: { session: suite.session.id } })).entries.at(-1);

  test('a pending approval stays pending while Claude waits, and ends with its turn', async () => {
    const asked = forwardLater('PermissionRequest', 'WebFetch', { url: 'https://example.com/c' });
    const approval = await pending('WebFetch');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal((await approvalOf(approval.id))?.status, 'pending');
    assert.equal(asked.hook.exitCode, null, 'the hook still waits');
    suite.hook({ hook_event_name: 'Stop', last_assistant_message: 'done' });
    assert.deepEqual((await asked).reply, {}, 'nothing decided: the question ended with the turn');
    const ended = await approvalOf(approval.id);
    assert.deepEqual([ended?.status, ended?.answeredBy], ['expired', 'turn ended']);
    const audited = await lastAudit();
    assert.deepEqual([audited?.tool, audited?.decision, audited?.answeredBy], ['WebFetch', 'ask', 'turn ended']);
  });

  test('answered yes in Claude’s own prompt: the call ran, the approval is approved by the terminal', async () => {
    const input = { url: 'https://example.com/yes' };
    const asked = forwardLater('PermissionRequest', 'WebFetch', input);
    const approval = await pending('WebFetch');
    suite.hook({ hook_event_name: 'PostToolUse', tool_name: 'WebFetch', tool_input: input, tool_response: { ok: true } });
    await asked;
    const answered = await approvalOf(approval.id);
    assert.deepEqual([answered?.status, answered?.answeredBy], ['approved', 'terminal']);
    const audited = await lastAudit();
    assert.deepEqual([audited?.tool, audited?.decision, audited?.answeredBy, (audited?.input as { url: string }).url], ['WebFetch', 'allow', 'terminal', input.url]);
    const late = await suite.daemon.cli(['deny', approval.id]);
    assert.notEqual(late.code, 0);
    assert.match(late.stderr, /already approved/);
  });

  test('answered no in Claude’s own prompt (Claude ends the hook): denied by the terminal', async () => {
    const asked = forwardLater('PermissionRequest', 'WebFetch', { url: 'https://example.com/no' });
    const approval = await pending('WebFetch');
    asked.hook.kill('SIGTERM');
    await asked;
    const answered = await answeredApproval(suite.daemon.client, approval.id);
    assert.deepEqual([answered.status, answered.answeredBy], ['denied', 'terminal']);
    // The audit row follows the answer by a moment: no reply went out to wait for.
    const audited = await waitFor('the no in the audit', async () => ((await lastAudit())?.decision === 'deny' ? lastAudit() : undefined));
    assert.deepEqual([audited?.decision, audited?.answeredBy], ['deny', 'terminal']);
  });

  test('a daemon stop while an approval is pending does not wait for the person; the approval ends as daemon stopped', async () => {
    const asked = forwardLater('PermissionRequest', 'WebFetch', { url: 'https://example.com/stop' });
    const approval = await pending('WebFetch');
    await suite.daemon.stop();
    assert.notEqual((await asked).code, 0, 'the hook got no answer: Claude keeps its own prompt');
    await suite.daemon.start();
    const ended = await approvalOf(approval.id);
    assert.deepEqual([ended?.status, ended?.answeredBy], ['expired', 'daemon stopped']);
    // The daemon cutting the hook as it stops is not the person saying no: the session still waits, nothing says terminal.
    const session = await suite.daemon.client.call(sessionEndpoints.show, { params: { id: suite.session.id } });
    assert.deepEqual([session.status, session.statusDetail], ['waiting', 'permission: WebFetch https://example.com/stop']);
    const { entries } = await suite.daemon.client.call(auditEndpoints.list, { query: { session: suite.session.id } });
    assert.equal(entries.filter((e) => e.answeredBy === 'terminal' && (e.input as { url?: string }).url === 'https://example.com/stop').length, 0);
  });
});

describe('policies with the real Claude Code against a fake Anthropic API', { timeout: 300_000 }, () => {
  let daemon: TestDaemon;
  let fake: FakeAnthropic;
  let home: ClaudeHome;
  let workdir: string;
  let session: SessionRecord;

  before(async () => {
    workdir = mkdtempSync('/tmp/cpt-pol-claude-');
    writeFileSync(path.join(workdir, 'notes.txt'), 'the secret number is 42\n');
    fake = await FakeAnthropic.start([
      { when: (r) => isMainConversation(r) && hasToolResult(r), reply: (r) => ({ text: `tool said: ${toolResultText(r)?.text ?? ''}`.slice(0, 200) }) },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('remove the victim'), reply: { toolUse: { name: 'Bash', input: { command: 'rm -f victim.txt', description: 'Remove victim.txt' } } } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('remove the second'), reply: { toolUse: { name: 'Bash', input: { command: 'rm -f second.txt', description: 'Remove second.txt' } } } },
      { when: (r) => isMainConversation(r) && lastUserText(r).includes('read the notes'), reply: () => ({ toolUse: { name: 'Read', input: { file_path: path.join(workdir, 'notes.txt') } } }) },
    ]);
    home = await prepareClaudeHome({ cwd: workdir, apiKey: 'sk-ant-policies-test-key-0123456789', baseUrl: fake.url });
    daemon = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: claudeBin });
    for (const args of [
      ['--action', 'deny', '--tool', 'Bash', '--args', '{"command":"rm *"}', '--reason', 'No mass deletes'],
      ['--action', 'allow', '--tool', 'Read', '--reason', 'File reads are safe'],
    ]) {
      const created = await daemon.cli(['policy', 'create', ...args]);
      assert.equal(created.code, 0, created.stderr);
    }
    session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'claude-code', cwd: workdir, env: { ...home.env }, options: { permissionMode: 'default' } } });
    await waitFor('Claude to be idle', async () => (await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status === 'idle', 60_000);
  });
  after(async () => {
    if (session) await daemon?.client.call(sessionEndpoints.kill, { params: { id: session.id } }).catch(() => undefined);
    await daemon?.dispose();
    await fake?.close();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
    await removeClaudeHome(home);
  });

  const toolResults = () => fake.messageRequests().filter((r) => isMainConversation(r) && hasToolResult(r)).map((r) => toolResultText(r)?.text ?? '');
  const events = async (type: string) => (await daemon.client.call(eventEndpoints.list, { query: { session: session.id, type, limit: 10000 } })).events;

  test('a denied rm does not run, and Claude is told the reason', async () => {
    writeFileSync(path.join(workdir, 'victim.txt'), 'still here');
    const sent = await daemon.cli(['send', session.id, 'please remove the victim file']);
    assert.equal(sent.code, 0, sent.stderr);
    const result = await waitFor('the tool result sent to the model', () => toolResults().find((t) => t.includes('No mass deletes')), 60_000);
    assert.match(result, /No mass deletes/);
    assert.equal(readFileSync(path.join(workdir, 'victim.txt'), 'utf8'), 'still here', 'the file is still there');
    assert.equal((await events('claude.PermissionRequest')).length, 0, 'no prompt was shown');
    const { entries } = await daemon.client.call(auditEndpoints.list, { query: { session: session.id, decision: 'deny' } });
    assert.equal(entries[0]?.tool, 'Bash');
    assert.deepEqual((entries[0]?.input as { command: string }).command, 'rm -f victim.txt');
  });

  test('an allowed Read runs without any prompt', async () => {
    const sent = await daemon.cli(['send', session.id, 'please read the notes']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor('the file content sent to the model', () => toolResults().some((t) => t.includes('the secret number is 42')), 60_000);
    assert.equal((await events('claude.PermissionRequest')).length, 0, 'no prompt was shown');
    const { entries } = await daemon.client.call(auditEndpoints.list, { query: { session: session.id, decision: 'allow' } });
    assert.ok(entries.some((e) => e.tool === 'Read' && e.reason === 'File reads are safe'));
  });

  test('a policy ask becomes a remote approval; approving it from the CLI lets Claude run the command', async () => {
    writeFileSync(path.join(workdir, 'second.txt'), 'x');
    const created = await daemon.cli(['policy', 'create', '--action', 'ask', '--rule', 'Bash(rm -f second.txt)', '--priority', '5', '--name', 'ask-second', '--reason', 'a person decides']);
    assert.equal(created.code, 0, created.stderr);
    const sent = await daemon.cli(['send', session.id, 'please remove the second file']);
    assert.equal(sent.code, 0, sent.stderr);
    const approval = await waitFor(
      'a pending approval',
      async () => (await daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.find((a) => a.tool === 'Bash' && a.policyName === 'ask-second'),
      60_000,
    );
    assert.equal(readFileSync(path.join(workdir, 'second.txt'), 'utf8'), 'x', 'nothing runs while the approval is pending');
    const approved = await daemon.cli(['approve', approval.id.slice(0, 8)]);
    assert.equal(approved.code, 0, approved.stderr);
    await waitFor('the file to be removed', () => !existsSync(path.join(workdir, 'second.txt')), 20_000);
  });

  test('a workspace’s defaults start a Claude session under its policy set: a Read every other session may do is denied there', async () => {
    const created = await daemon.cli(['policy', 'create', '--action', 'deny', '--tool', 'Read', '--set', 'no-reads', '--name', 'no-reads-here', '--reason', 'this workspace reads nothing']);
    assert.equal(created.code, 0, created.stderr);
    await daemon.client.call(envSetEndpoints.put, { params: { name: 'claude-local' }, body: { env: { ...home.env } } });
    const added = await daemon.cli(['workspace', 'add', 'careful', workdir, '--provider', 'claude-code', '--env-set', 'claude-local', '--policy-set', 'no-reads']);
    assert.equal(added.code, 0, added.stderr);
    const careful = await daemon.client.call(workspaceEndpoints.start, { params: { name: 'careful' }, body: { name: 'careful-claude', options: { permissionMode: 'default' }, prompt: 'please read the notes' } });
    assert.deepEqual([careful.provider, careful.cwd], ['claude-code', workdir]);
    try {
      await waitFor('the denial sent to the model', () => toolResults().some((t) => t.includes('this workspace reads nothing')), 60_000);
      const { entries } = await daemon.client.call(auditEndpoints.list, { query: { session: careful.id } });
      assert.deepEqual(entries.map((e) => [e.tool, e.decision, e.policyName]), [['Read', 'deny', 'no-reads-here']]);
      assert.match((await daemon.cli(['policy', 'sets', careful.id])).stdout, /policy sets no-reads$/m);
      // The set is for the workspace's sessions only: the first session reads as before.
      const decision = await daemon.client.call(policyEndpoints.test, { body: { tool: 'Read', args: { file_path: path.join(workdir, 'notes.txt') }, session: session.id } });
      assert.deepEqual([decision.decision, decision.reason], ['allow', 'File reads are safe']);
    } finally {
      await daemon.client.call(sessionEndpoints.kill, { params: { id: careful.id } });
    }
  });
});
