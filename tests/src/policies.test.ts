import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { eventEndpoints, policyEndpoints, sessionEndpoints, type AuditEntry, type Policy, type PolicyDecision, type SessionRecord } from '@codepiper/sdk';
import { suiteDaemon, waitFor } from './harness.js';

describe('permission policies through the CLI', () => {
  const suite = suiteDaemon();
  const cli = (args: string[]) => suite.daemon.cli(args);
  const policies = async (): Promise<Policy[]> => (await suite.daemon.client.call(policyEndpoints.list, { query: {} })).policies;
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await cli([...args, '--json']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
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
    assert.deepEqual((await json<{ policies: Policy[] }>(['policy', 'list'])).policies.map((p) => p.name), ['push', 'no-rm', read.name], 'in the order they are considered');

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
    assert.match(imported.stderr, /policy 2 \("broken"\): action/);
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

  test('session-scoped policies apply only to their session', async () => {
    await clear();
    const start = async (): Promise<SessionRecord> => json<SessionRecord>(['start', '-p', 'shell', '-d', suite.workdir, '--', 'cat']);
    const [one, two] = [await start(), await start()];
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
    const session = await json<SessionRecord>(['start', '-p', 'shell', '-d', suite.workdir, '--', 'cat']);
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
});
