import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConditionError, ConditionEvaluationError, conditionReferences, evaluateCondition, parseCondition } from './condition.js';
import type { InterpolationContext } from './interpolate.js';

const context: InterpolationContext = {
  steps: {
    'run-tests': { result: '3 passed, 1 FAIL\n', exit_code: 1, output: 'x' },
    build: { exit_code: 0, result: ' yes ' },
  },
  vars: { mode: 'fast', count: '12', empty: '' },
  env: { HOME: '/home/me' },
  locals: { item: 'cli' },
};
const evaluate = (text: string): boolean => evaluateCondition(text, context);

const errorAt = (text: string): { offset: number; message: string } => {
  try {
    parseCondition(text);
  } catch (error) {
    assert.ok(error instanceof ConditionError, String(error));
    return { offset: error.offset, message: error.message };
  }
  assert.fail(`"${text}" parsed`);
};

describe('conditions', () => {
  it('evaluates the headline condition', () => {
    assert.equal(evaluate("${run-tests.result} contains 'FAIL'"), true);
    assert.equal(evaluate('${run-tests.result} contains "PASS"'), false);
    assert.equal(evaluate("${run-tests.result} not contains 'PASS'"), true);
  });

  it('compares numbers as numbers and text trimmed', () => {
    assert.equal(evaluate('${run-tests.exit_code} != 0'), true);
    assert.equal(evaluate('${build.exit_code} == 0'), true);
    assert.equal(evaluate("${vars.count} > 9"), true, 'numeric, not "12" < "9" as text');
    assert.equal(evaluate("${vars.count} < 9"), false);
    assert.equal(evaluate("${vars.count} == '12.0'"), true);
    assert.equal(evaluate("${build.result} == 'yes'"), true);
    assert.equal(evaluate("${vars.mode} == 'Fast'"), false);
    assert.throws(() => evaluate("${vars.mode} < 3"), ConditionEvaluationError);
  });

  it('has and, or, not and parentheses with the usual precedence', () => {
    assert.equal(evaluate("'a' == 'b' and 'a' == 'a' or 'c' == 'c'"), true, 'and binds tighter than or');
    assert.equal(evaluate("'a' == 'b' and ('a' == 'a' or 'c' == 'c')"), false);
    assert.equal(evaluate("not 'a' == 'b'"), true);
    assert.equal(evaluate("not not ${vars.mode}"), true);
    assert.equal(evaluate("not (${vars.mode} == 'fast' and ${build.exit_code} == 0)"), false);
  });

  it('matches regular expressions with flags', () => {
    assert.equal(evaluate('${run-tests.result} matches /\\d+ passed/'), true);
    assert.equal(evaluate('${run-tests.result} matches /fail/'), false);
    assert.equal(evaluate('${run-tests.result} matches /fail/i'), true);
    assert.equal(evaluate("'a/b' matches /a\\/b/"), true);
  });

  it('treats a lone value as a test', () => {
    assert.equal(evaluate('${vars.mode}'), true);
    assert.equal(evaluate('${vars.empty}'), false);
    assert.equal(evaluate("'false'"), false);
    assert.equal(evaluate('false or true'), true);
    assert.equal(evaluate('${env.UNSET_THING}'), false, 'an unset env var is empty');
  });

  it('interpolates references inside string literals and loop variables', () => {
    assert.equal(evaluate("'${item}-x' == 'cli-x'"), true);
    assert.equal(evaluate("${env.HOME} contains '/home'"), true);
  });

  it('never evaluates code', () => {
    const evil = { ...context, steps: { s: { result: "'); process.exit(1); ('" } } };
    assert.equal(evaluateCondition("${s.result} contains 'exit'", evil), true);
    assert.ok(errorAt("process.exit(1)").message.includes('unexpected word "process"'));
  });

  it('stops a pattern that backtracks without end, with an error naming it', () => {
    const slow = { ...context, steps: { s: { result: `${'a'.repeat(40)}b` } } };
    assert.throws(() => evaluateCondition('${s.result} matches /^(a+)+$/', slow), (error: Error) => error instanceof ConditionEvaluationError && /ran longer than 1000 ms/.test(error.message));
    assert.equal(evaluateCondition('${s.result} matches /^a+b$/', slow), true);
  });

  it('reports parse errors at their offset', () => {
    assert.deepEqual(errorAt("${a.result} contains"), { offset: 20, message: "expected a value (a 'string', a number or ${...}), found the end of the condition" });
    assert.equal(errorAt("${a.result} = 'x'").offset, 12);
    assert.equal(errorAt("${a.result} == 'x").offset, 15);
    assert.equal(errorAt("('a' == 'b'").offset, 11);
    assert.equal(errorAt("'a' == 'b')").offset, 10);
    assert.equal(errorAt("'a' matches 'x'").offset, 12);
    assert.equal(errorAt("'a' matches /x/g").offset, 15);
    assert.equal(errorAt("'a' matches /(/").offset, 12);
    assert.equal(errorAt("'a' && 'b'").offset, 4);
    assert.equal(errorAt("${a.result contains 'x'").offset, 0);
    assert.equal(errorAt('  ').offset, 0);
    assert.equal(errorAt("'a' == 'b' 'c'").offset, 11);
  });

  it('lists the references with their offsets', () => {
    assert.deepEqual(conditionReferences(parseCondition("${a.result} contains 'x${b.output}' or ${env.X} == 1")), [
      { path: ['a', 'result'], offset: 0 },
      { path: ['b', 'output'], offset: 21 },
      { path: ['env', 'X'], offset: 39 },
    ]);
  });
});
