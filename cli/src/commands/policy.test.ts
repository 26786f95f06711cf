import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../errors.js';
import type { Policy } from '@codepiper/policies-contract';
import { builtinDisabledWarning, formatDecision, parseAction, parseArgsJson, parsePriority, parseSince, parseToolInput, policyFields, policyInput, policyRow, policyUpdate } from './policy.js';

const usage = (fn: () => unknown, message: RegExp): void => {
  assert.throws(fn, (error: unknown) => error instanceof UsageError && message.test(error.message));
};

describe('policy command parsing', () => {
  test('actions', () => {
    assert.equal(parseAction('deny'), 'deny');
    usage(() => parseAction('maybe'), /--action must be allow, deny or ask; got "maybe"/);
  });
  test('--args: a JSON object of string globs', () => {
    assert.deepEqual(parseArgsJson('{"command":"rm *"}'), { command: 'rm *' });
    usage(() => parseArgsJson('{bad'), /--args is not valid JSON/);
    usage(() => parseArgsJson('["rm"]'), /must be a JSON object/);
    usage(() => parseArgsJson('{"command":5}'), /glob for "command" must be a string, got 5/);
    assert.deepEqual(parseToolInput('{"n":1}'), { n: 1 });
    usage(() => parseToolInput('nope'), /not valid JSON/);
  });
  test('--priority', () => {
    assert.equal(parsePriority('10'), 10);
    assert.equal(parsePriority('-3'), -3);
    usage(() => parsePriority('high'), /whole number/);
  });
  test('--since: a time or an age', () => {
    const now = Date.parse('2026-01-31T12:00:00Z');
    assert.equal(parseSince('10m', now), '2026-01-31T11:50:00.000Z');
    assert.equal(parseSince('2d', now), '2026-01-29T12:00:00.000Z');
    assert.equal(parseSince('2026-01-30T00:00:00Z', now), '2026-01-30T00:00:00.000Z');
    usage(() => parseSince('yesterday', now), /--since expects/);
  });
  test('create: the body, checked', () => {
    assert.deepEqual(policyInput({ action: 'allow', tool: 'Read', reason: 'File reads are safe' }), { action: 'allow', tool: 'Read', reason: 'File reads are safe' });
    assert.deepEqual(policyInput({ action: 'deny', tool: 'Bash', args: '{"command":"rm *"}', name: 'no-rm', priority: '5', session: 'ab12' }), {
      action: 'deny',
      tool: 'Bash',
      args: { command: 'rm *' },
      name: 'no-rm',
      priority: 5,
      session: 'ab12',
    });
    assert.deepEqual(policyInput({ action: 'allow', rule: 'Bash(git push:*)' }), { action: 'allow', rule: 'Bash(git push:*)' });
    usage(() => policyInput({ tool: 'Read' }), /missing --action/);
    usage(() => policyInput({ action: 'allow' }), /missing --tool/);
    usage(() => policyInput({ action: 'allow', rule: 'Bash(ls)', tool: 'Bash' }), /not both/);
    usage(() => policyInput({ action: 'allow', tool: ['A', 'B'] }), /only once/);
  });
  test('update: only what was given', () => {
    assert.deepEqual(policyUpdate({ priority: '3', session: 'none' }), { priority: 3, session: null });
    usage(() => policyUpdate({}), /nothing to update/);
  });
  test('a decision names the rule that made it, and each command of a shell line', () => {
    const text = formatDecision({
      decision: 'deny',
      reason: 'No mass deletes',
      policy: { id: '2c5239d0-0000', name: 'no-rm' },
      rule: 'tool=Bash args={"command":"rm *"}',
      parts: [
        { command: 'ls', decision: 'ask', policy: null },
        { command: 'rm -rf build', decision: 'deny', policy: 'no-rm' },
      ],
    });
    assert.match(text, /^deny: No mass deletes\nrule: tool=Bash args=\{"command":"rm \*"\} \(policy no-rm, 2c5239d0\)/);
    assert.match(text, /deny +rm -rf build +\(no-rm\)/);
    assert.match(formatDecision({ decision: 'ask', reason: 'x', policy: null, rule: 'default', parts: [] }), /rule: default \(no policy decided\)/);
    const multiline = formatDecision({
      decision: 'ask',
      reason: 'x',
      policy: null,
      rule: 'default',
      parts: [
        { command: 'git commit -m $(cat <<EOF\nmsg\nEOF\n)', decision: 'allow', policy: 'git' },
        { command: 'eval $x', decision: 'ask', policy: null },
      ],
    });
    assert.match(multiline, /^ {2}allow {2}git commit -m \$\(cat <<EOF\\nmsg\\nEOF\\n\) {2}\(git\)$/m, 'one line per command');
    assert.match(multiline, /^ {2}ask {4}eval \$x {2}\(default\)$/m);
  });
  test('a built-in policy is marked as such; disabling it warns', () => {
    const guard: Policy = {
      id: '7f3c1e2a-0000-4000-8000-000000000000',
      name: 'builtin:control-plane-guard',
      action: 'ask',
      tool: '*',
      args: null,
      rule: null,
      priority: 0,
      session: null,
      set: null,
      enabled: true,
      reason: 'Asks a person',
      builtin: true,
      createdAt: '2026-01-31T00:00:00.000Z',
      updatedAt: '2026-01-31T00:00:00.000Z',
    };
    assert.deepEqual(policyRow(guard), ['7f3c1e2a', 'builtin:control-plane-guard', 'ask', '-', '-', "(built-in) the daemon's home and socket, codepiper, its tmux server", 'Asks a person']);
    assert.equal(policyRow({ ...guard, enabled: false })[2], 'ask (disabled)');
    assert.match(policyFields(guard), /built-in: +yes: it can be disabled and enabled, not changed or deleted/);
    assert.doesNotMatch(policyFields({ ...guard, builtin: false }), /built-in/);
    assert.match(builtinDisabledWarning(guard), /^codepiper: warning: builtin:control-plane-guard is off: .* `codepiper policy enable builtin:control-plane-guard` turns it back on$/);
  });
});
