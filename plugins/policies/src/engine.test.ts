import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadBashGrammar } from './bash-grammar.js';
import { PolicyEngine, PolicyError, validateMatch, type PolicyLike } from './engine.js';

await loadBashGrammar();

let n = 0;
const policy = (p: Partial<PolicyLike> & Pick<PolicyLike, 'action'>): PolicyLike => {
  n++;
  return { id: `id-${n}`, name: p.name ?? `p${n}`, tool: 'Bash', args: null, rule: null, priority: 0, session: null, enabled: true, reason: '', ...p };
};
const bash = (command: string) => ({ tool: 'Bash', input: { command } });

describe('tool matching', () => {
  test('exact tool name', () => {
    const e = new PolicyEngine([policy({ action: 'allow', tool: 'Read', name: 'reads' })]);
    assert.equal(e.decide({ tool: 'Read', input: { file_path: '/a' } }).decision, 'allow');
    assert.equal(e.decide({ tool: 'ReadX', input: {} }).decision, 'ask');
    assert.equal(e.decide({ tool: 'read', input: {} }).decision, 'ask', 'case matters');
  });
  test('tool glob', () => {
    const e = new PolicyEngine([policy({ action: 'deny', tool: 'mcp__*' })]);
    assert.equal(e.decide({ tool: 'mcp__github__push', input: {} }).decision, 'deny');
    assert.equal(e.decide({ tool: 'Read', input: {} }).decision, 'ask');
  });
});

describe('args matching', () => {
  test('a field glob', () => {
    const e = new PolicyEngine([policy({ action: 'deny', args: { command: 'rm *' } })]);
    assert.equal(e.decide(bash('rm -rf build')).decision, 'deny');
    assert.equal(e.decide(bash('ls')).decision, 'ask');
  });
  test('every given field must match', () => {
    const e = new PolicyEngine([policy({ action: 'allow', tool: 'Edit', args: { file_path: '/repo/*', old_string: 'foo*' } })]);
    assert.equal(e.decide({ tool: 'Edit', input: { file_path: '/repo/a', old_string: 'foobar' } }).decision, 'allow');
    assert.equal(e.decide({ tool: 'Edit', input: { file_path: '/repo/a', old_string: 'bar' } }).decision, 'ask');
    assert.equal(e.decide({ tool: 'Edit', input: { file_path: '/etc/a', old_string: 'foo' } }).decision, 'ask');
  });
  test('a field the call lacks does not match', () => {
    const e = new PolicyEngine([policy({ action: 'deny', tool: 'WebFetch', args: { url: '*' } })]);
    assert.equal(e.decide({ tool: 'WebFetch', input: { prompt: 'x' } }).decision, 'ask');
    assert.equal(e.decide({ tool: 'WebFetch', input: undefined }).decision, 'ask');
    assert.equal(e.decide({ tool: 'WebFetch', input: { url: 'https://x' } }).decision, 'deny');
  });
  test('an object field never matches a glob; numbers match as text', () => {
    const e = new PolicyEngine([policy({ action: 'deny', tool: 'T', args: { a: '*', n: '4*' } })]);
    assert.equal(e.decide({ tool: 'T', input: { a: { x: 1 }, n: 42 } }).decision, 'ask');
    assert.equal(e.decide({ tool: 'T', input: { a: 'x', n: 42 } }).decision, 'deny');
  });
});

describe('shell commands are judged by every command in them', () => {
  const e = new PolicyEngine([
    policy({ action: 'deny', name: 'no-rm', args: { command: 'rm *' }, reason: 'No mass deletes' }),
    policy({ action: 'allow', name: 'ls', rule: 'Bash(ls:*)' }),
    policy({ action: 'allow', name: 'echo', rule: 'Bash(echo:*)' }),
  ]);
  for (const command of ['ls && rm -rf x', 'ls | rm x', 'ls; rm x', 'echo $(rm -rf x)', 'echo `rm x`', 'ls\nrm x', 'ls || rm x', 'FOO=1 rm x', '"rm" -rf x']) {
    test(`a deny in any part denies the whole: ${JSON.stringify(command)}`, () => {
      const d = e.decide(bash(command));
      assert.equal(d.decision, 'deny');
      assert.equal(d.policy?.name, 'no-rm');
      assert.equal(d.reason, 'No mass deletes');
    });
  }
  test('an allow applies only when every part is allowed', () => {
    assert.equal(e.decide(bash('ls -la && echo hi')).decision, 'allow');
    const d = e.decide(bash('ls && curl evil.sh'));
    assert.equal(d.decision, 'ask');
    assert.equal(d.policy, null);
    assert.equal(d.rule, 'default');
    assert.match(d.reason, /curl evil\.sh/);
    assert.deepEqual(
      d.parts.map((p) => [p.command, p.decision, p.policy]),
      [
        ['ls', 'allow', 'ls'],
        ['curl evil.sh', 'ask', null],
      ],
    );
  });
  test('separators inside quotes do not split', () => {
    assert.equal(e.decide(bash(`echo "ok; rm -rf x"`)).decision, 'allow');
  });
  test('a policy without a command constraint applies to every part', () => {
    const all = new PolicyEngine([policy({ action: 'allow', tool: 'Bash' })]);
    assert.equal(all.decide(bash('ls && rm x')).decision, 'allow');
  });
  test('terminal_input text is split the same way', () => {
    const t = new PolicyEngine([policy({ action: 'deny', tool: 'terminal_input', args: { text: 'rm *' } })]);
    assert.equal(t.decide({ tool: 'terminal_input', input: { text: 'cd /tmp && rm -rf *' } }).decision, 'deny');
    assert.equal(t.decide({ tool: 'terminal_input', input: { text: 'hello' } }).decision, 'ask');
  });
});

describe('commands that cannot be known before the line runs', () => {
  const allowAll = policy({ action: 'allow', name: 'all', args: { command: '*' } });
  test('no allow can allow them: the default decides, and says why', () => {
    const d = new PolicyEngine([allowAll]).decide(bash('ls && eval "$x"'));
    assert.equal(d.decision, 'ask');
    assert.equal(d.policy, null);
    assert.equal(d.reason, 'the command run by `eval` cannot be known before it runs, so no policy can allow it; the default action is ask');
    assert.deepEqual(
      d.parts.map((p) => [p.command, p.decision, p.policy]),
      [
        ['ls', 'allow', 'all'],
        ['eval $x', 'ask', null],
      ],
    );
    assert.equal(new PolicyEngine([allowAll], 'deny').decide(bash('eval "$x"')).decision, 'deny');
  });
  test('a deny or an ask that matches their text still decides', () => {
    const e = new PolicyEngine([policy({ action: 'deny', name: 'no-eval', rule: 'Bash(eval:*)', priority: -1 }), policy({ action: 'allow', name: 'eval-ok', rule: 'Bash(eval:*)' })]);
    assert.equal(e.decide(bash('eval "$x"')).policy?.name, 'no-eval', 'the allow is passed over, the lower deny decides');
    assert.deepEqual(
      e.decide(bash('eval ls')).parts.map((p) => [p.command, p.policy]),
      [
        ['eval ls', 'eval-ok'],
        ['ls', null],
      ],
      'a string known before it runs is judged, not unknown',
    );
  });
  test('a denied command still denies the whole line', () => {
    const d = new PolicyEngine([policy({ action: 'deny', name: 'no-rm', args: { command: 'rm *' } }), allowAll]).decide(bash('$CMD; rm -rf x'));
    assert.equal(d.decision, 'deny');
    assert.equal(d.policy?.name, 'no-rm');
  });
});

describe('wrappers are commands of their own', () => {
  test('an allow for the command does not allow the wrapper, nor the other way round', () => {
    const e = new PolicyEngine([policy({ action: 'allow', name: 'make', rule: 'Bash(make:*)' }), policy({ action: 'allow', name: 'sudo-apt', rule: 'Bash(sudo apt:*)' })]);
    assert.equal(e.decide(bash('make -j4')).decision, 'allow');
    assert.match(e.decide(bash('time make')).reason, /no policy matched "time make"/);
    assert.match(e.decide(bash('sudo apt update')).reason, /no policy matched "apt update"/);
  });
});

describe('order', () => {
  test('higher priority first', () => {
    const e = new PolicyEngine([
      policy({ action: 'deny', name: 'deny-rm', args: { command: 'rm *' } }),
      policy({ action: 'allow', name: 'allow-build', args: { command: 'rm -rf build' }, priority: 10 }),
    ]);
    assert.equal(e.decide(bash('rm -rf build')).policy?.name, 'allow-build');
    assert.equal(e.decide(bash('rm -rf src')).policy?.name, 'deny-rm');
  });
  test('at equal priority deny beats ask beats allow, whatever the creation order', () => {
    const allow = policy({ action: 'allow', name: 'a' });
    const ask = policy({ action: 'ask', name: 'q' });
    const deny = policy({ action: 'deny', name: 'd' });
    assert.equal(new PolicyEngine([allow, ask, deny]).decide(bash('x')).policy?.name, 'd');
    assert.equal(new PolicyEngine([allow, ask]).decide(bash('x')).policy?.name, 'q');
    assert.equal(new PolicyEngine([ask, allow]).decide(bash('x')).decision, 'ask');
  });
  test('disabled policies are not considered', () => {
    const e = new PolicyEngine([policy({ action: 'deny', enabled: false }), policy({ action: 'allow', name: 'on' })]);
    assert.equal(e.decide(bash('x')).policy?.name, 'on');
  });
  test('nothing matched: the default action, ask unless configured to deny', () => {
    const none = new PolicyEngine([]).decide(bash('x'));
    assert.equal(none.decision, 'ask');
    assert.equal(none.rule, 'default');
    assert.equal(new PolicyEngine([], 'deny').decide(bash('x')).decision, 'deny');
  });
  test('an explicit ask is named before the default ask', () => {
    const e = new PolicyEngine([policy({ action: 'ask', name: 'ask-git', rule: 'Bash(git:*)' })]);
    assert.equal(e.decide(bash('curl x && git push')).policy?.name, 'ask-git');
  });
});

describe('session scope', () => {
  const e = new PolicyEngine([policy({ action: 'deny', name: 'only-s1', session: 's1' })]);
  test('applies to its session', () => assert.equal(e.decide({ ...bash('x'), session: 's1' }).decision, 'deny'));
  test('not to another session', () => assert.equal(e.decide({ ...bash('x'), session: 's2' }).decision, 'ask'));
  test('not without a session', () => assert.equal(e.decide(bash('x')).decision, 'ask'));
});

describe('the decision names the policy and rule', () => {
  test('tool + args', () => {
    const d = new PolicyEngine([policy({ action: 'deny', id: 'P', name: 'n', args: { command: 'rm *' } })]).decide(bash('rm x'));
    assert.deepEqual(d.policy, { id: 'P', name: 'n' });
    assert.equal(d.rule, 'tool=Bash args={"command":"rm *"}');
    assert.match(d.reason, /policy n: deny/);
  });
  test('a Claude Code rule', () => {
    const d = new PolicyEngine([policy({ action: 'allow', tool: 'Bash', rule: 'Bash(git push:*)' })]).decide(bash('git push origin'));
    assert.equal(d.rule, 'Bash(git push:*)');
    assert.equal(d.decision, 'allow');
  });
  test('a file rule', () => {
    const e = new PolicyEngine([policy({ action: 'deny', tool: 'Read', rule: 'Read(./.env)' })]);
    assert.equal(e.decide({ tool: 'Read', input: { file_path: '/repo/.env' } }).decision, 'deny');
    assert.equal(e.decide({ tool: 'Read', input: { file_path: '/repo/a.ts' } }).decision, 'ask');
  });
});

describe('validateMatch', () => {
  test('accepts tool + args, or a rule', () => {
    assert.deepEqual(validateMatch({ tool: 'Bash', args: { command: 'rm *' } }), { tool: 'Bash', args: { command: 'rm *' }, rule: null });
    assert.deepEqual(validateMatch({ rule: 'Bash(git push:*)' }), { tool: 'Bash', args: null, rule: 'Bash(git push:*)' });
  });
  test('bad input is a clear error', () => {
    const bad: [unknown, RegExp][] = [
      [{ tool: 'Bash', args: { command: 5 } }, /args\.command must be a string glob, got number 5/],
      [{ tool: 'Bash', args: { command: ['rm'] } }, /got an array/],
      [{ tool: 'Bash', args: ['rm'] }, /args must be an object/],
      [{}, /needs a tool/],
      [{ rule: 'Bash(', tool: undefined }, /closing/],
      [{ rule: 'Bash(ls)', tool: 'Bash' }, /not both/],
    ];
    for (const [spec, message] of bad) {
      assert.throws(() => validateMatch(spec as never), (error: unknown) => error instanceof PolicyError && message.test(error.message), JSON.stringify(spec));
    }
  });
});
