import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { allSteps, type IfStep, type SessionStep } from './ast.js';
import { parseWorkflow } from './parse.js';

const examples = path.resolve(import.meta.dirname, '..', '..', '..', 'examples', 'workflows');

/** `LINE:COL path: message` for each error, for compact assertions. */
const errorsOf = (source: string): string[] => parseWorkflow(source).errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`);
/** Only the `LINE:COL path` part. */
const where = (source: string): string[] => parseWorkflow(source).errors.map((e) => `${e.line}:${e.column} ${e.path}`);

describe('parseWorkflow', () => {
  it('accepts every example and builds the headline AST', () => {
    const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 3);
    for (const file of files) {
      const result = parseWorkflow(readFileSync(path.join(examples, file), 'utf8'), path.join(examples, file));
      assert.deepEqual(result.errors, [], file);
      assert.ok(result.workflow, file);
    }
    const { workflow, stepCount } = parseWorkflow(readFileSync(path.join(examples, 'test-and-fix.yaml'), 'utf8'), path.join(examples, 'test-and-fix.yaml'));
    assert.ok(workflow);
    assert.equal(stepCount, 3);
    assert.equal(workflow.name, 'test-and-fix');
    assert.equal(workflow.baseDir, examples);
    const [first, second] = workflow.steps as [SessionStep, IfStep];
    assert.deepEqual(first, {
      path: 'steps[0]', line: 3, column: 5, onError: 'fail', id: 'run-tests', type: 'session', provider: 'claude-code', trust: true,
      prompt: 'Run the test suite and report failures', env: {}, args: [], wait: { until: 'idle_prompt' },
    });
    assert.equal(second.type, 'if');
    assert.equal(second.parsedCondition.kind, 'compare');
    assert.equal(second.then[0]?.path, 'steps[1].then[0]');
    assert.deepEqual(allSteps(workflow.steps).map((s) => s.id), ['run-tests', undefined, 'fix-tests']);
  });

  it('reads every field of every step type', () => {
    const { workflow, errors } = parseWorkflow(`name: all
vars: { dirs: [a, b], who: "\${env.USER}" }
steps:
  - type: session
    id: s
    provider: claude-code
    cwd: sub
    model: sonnet
    trust: false
    env: { PORT: 8080 }
    args: [--verbose]
    wait: { event: session.status, timeout: 2m }
    timeout: 1h
    retry: { count: 2, delay: 10s }
    on_error: continue
  - session: s
    prompt: again
    wait: { until: exit }
  - type: shell
    id: sh
    command: [ls, -la]
    cwd: /tmp
  - type: foreach
    items: \${vars.dirs}
    as: dir
    steps:
      - type: log
        message: "\${dir} \${sh.stdout}"
  - type: parallel
    mode: first
    steps:
      - { type: set, vars: { x: 1 } }
      - { type: log, message: "\${vars.x}" }
`);
    assert.deepEqual(errors, []);
    assert.ok(workflow);
    assert.deepEqual(workflow.vars, { dirs: ['a', 'b'], who: '${env.USER}' });
    const [session, followUp, shell, foreach, parallel] = workflow.steps;
    assert.deepEqual(
      { ...session, path: undefined, line: undefined, column: undefined },
      {
        type: 'session', id: 's', provider: 'claude-code', cwd: 'sub', model: 'sonnet', trust: false, env: { PORT: '8080' }, args: ['--verbose'],
        wait: { event: 'session.status', timeoutMs: 120_000 }, timeoutMs: 3_600_000, retry: { count: 2, delayMs: 10_000 }, onError: 'continue',
        path: undefined, line: undefined, column: undefined,
      },
    );
    assert.deepEqual(followUp && { type: followUp.type, wait: 'wait' in followUp ? followUp.wait : undefined }, { type: 'session-prompt', wait: { until: 'exit' } });
    assert.deepEqual(shell?.type === 'shell' && shell.command, ['ls', '-la']);
    assert.deepEqual(foreach?.type === 'foreach' && [foreach.items, foreach.as], ['${vars.dirs}', 'dir']);
    assert.equal(parallel?.type === 'parallel' && parallel.mode, 'first');
  });

  it('reports every error with line, column and step path', () => {
    const source = `name: broken
steps:
  - type: session
    id: a
    provider: claude-code
    prompt: "Look at \${b.result}"
    timeout: 30
    colour: red
  - type: if
    condition: "\${a.result} contains 'x' and ("
    then:
      - type: session
        id: a
        provider: claude-code
        prompt: "Fix \${a.resul}"
      - type: teleport
  - session: ghost
    prompt: hi
  - type: session
    id: b
    wait: forever
`;
    assert.deepEqual(errorsOf(source), [
      '6:22 steps[0].prompt: ${b.result}: step "b" has not run at this point (it comes later, or in another branch of a parallel step)',
      '7:14 steps[0].timeout: bad duration "30": write a number with a unit, e.g. 500ms, 30s, 5m, 1h or 1m30s',
      '8:5 steps[0].colour: unknown field "colour" for a session step (expected one of: type, id, timeout, retry, on_error, provider, cwd, model, trust, worktree, prompt, env, args, wait)',
      "10:47 steps[1].condition: bad condition: expected a value (a 'string', a number or ${...}), found the end of the condition",
      '13:13 steps[1].then[0].id: duplicate id "a" (already used by steps[0])',
      '15:22 steps[1].then[0].prompt: ${a.resul}: a session step has no "resul" (it has result, output, exit_code, status, session_id)',
      '16:15 steps[1].then[1].type: unknown step type "teleport" (expected one of: session, if, parallel, foreach, shell, set, log)',
      '17:14 steps[2].session: no session step has id "ghost"',
      '19:5 steps[3].provider: missing required field "provider" for a session step',
      '21:11 steps[3].wait: unknown wait "forever" (expected idle_prompt, permission, exit, or { event: <type>, timeout: <duration> })',
    ]);
  });

  it('refuses a duration longer than a timer can wait (24 days), which would otherwise end at once', () => {
    const step = (field: string) => `name: t\nsteps:\n  - type: session\n    provider: shell\n    ${field}\n`;
    assert.equal((parseWorkflow(step('timeout: 576h')).workflow?.steps[0] as SessionStep).timeoutMs, 576 * 3_600_000);
    assert.deepEqual(errorsOf(step('timeout: 577h')), ['5:14 steps[0].timeout: duration "577h" is too long: at most 576h (24 days)']);
    assert.deepEqual(errorsOf(step('retry: { count: 2, delay: 1000h }')), ['5:31 steps[0].retry.delay: duration "1000h" is too long: at most 576h (24 days)']);
    assert.deepEqual(errorsOf(step('wait: { until: exit, timeout: 600h }')), ['5:35 steps[0].wait.timeout: duration "600h" is too long: at most 576h (24 days)']);
  });

  it('takes trust as true or false only', () => {
    const step = (trust: string) => `name: t\nsteps:\n  - type: session\n    provider: claude-code\n    trust: ${trust}\n`;
    assert.equal((parseWorkflow(step('true')).workflow?.steps[0] as SessionStep).trust, true);
    assert.equal((parseWorkflow(step('false')).workflow?.steps[0] as SessionStep).trust, false);
    assert.equal((parseWorkflow('name: t\nsteps: [{ type: session, provider: shell }]\n').workflow?.steps[0] as SessionStep).trust, undefined);
    assert.deepEqual(errorsOf(step('"yes"')), ['5:12 steps[0].trust: must be true or false, not a string']);
    assert.deepEqual(errorsOf(step('yes')), ['5:12 steps[0].trust: must be true or false, not a string']);
    assert.deepEqual(errorsOf(step('1')), ['5:12 steps[0].trust: must be true or false, not the number 1']);
    assert.deepEqual(errorsOf(step('"${env.TRUST}"')), ['5:12 steps[0].trust: must be true or false, not a string']);
    assert.deepEqual(errorsOf(step('')), ['5:12 steps[0].trust: must be true or false, not nothing']);
  });

  it('finds condition errors inside quoted, plain and block strings', () => {
    assert.deepEqual(where(`name: c\nsteps:\n  - type: if\n    condition: \${x} = 'a'\n    then: [{ type: log, message: hi }]\n`).slice(-1), ['4:21 steps[0].condition']);
    assert.deepEqual(where(`name: c\nsteps:\n  - type: if\n    condition: '''a'' == b'\n    then: [{ type: log, message: hi }]\n`), ['4:26 steps[0].condition']);
    assert.deepEqual(where(`name: c\nsteps:\n  - type: if\n    condition: "\\t'a' = 'b'"\n    then: [{ type: log, message: hi }]\n`), ['4:23 steps[0].condition']);
    assert.deepEqual(where(`name: c\nsteps:\n  - type: if\n    condition: |\n      'a' == 'a' and\n      'b' =! 'c'\n    then: [{ type: log, message: hi }]\n`), ['6:11 steps[0].condition']);
  });

  it('scopes references: then sees before the if, parallel branches do not see each other, one-branch ids are maybe', () => {
    const source = `name: scopes
steps:
  - { type: shell, id: first, command: [true] }
  - type: if
    condition: "\${first.exit_code} == 0"
    then:
      - { type: log, id: only-then, message: "\${first.output}" }
      - { type: log, id: both, message: "\${only-then.status}" }
    else:
      - { type: log, id: both2, message: "x" }
  - { type: log, message: "\${only-then.status}" }
  - type: parallel
    steps:
      - { type: shell, id: p1, command: [true] }
      - { type: log, id: p2, message: "\${p1.output} \${first.output}" }
  - { type: log, message: "\${p1.output} \${p2.status}" }
  - type: parallel
    mode: first
    steps:
      - { type: shell, id: f1, command: [true] }
  - { type: log, message: "\${f1.output}" }
  - type: foreach
    items: \${first.output}
    steps:
      - { type: log, id: inloop, message: "\${item} \${first.result}" }
  - { type: log, message: "\${inloop.status} \${item}" }
`;
    assert.deepEqual(errorsOf(source), [
      '11:28 steps[2].message: ${only-then.status}: step "only-then" may not have run at this point (it runs only in the then branch of steps[1])',
      '15:40 steps[3].steps[1].message: ${p1.output}: step "p1" has not run at this point (it comes later, or in another branch of a parallel step)',
      '21:28 steps[6].message: ${f1.output}: step "f1" may not have run at this point (steps[5] has mode: first, so only one of its branches finishes)',
      '26:28 steps[8].message: ${inloop.status}: step "inloop" may not have run at this point (it is inside steps[7], whose list may be empty)',
      '26:45 steps[8].message: ${item}: no step has id "item"',
    ]);
  });

  it('checks follow-ups, vars, ids and simple field types', () => {
    const source = `name: misc
vars: { a: 1 }
steps:
  - session: later
    prompt: hi
  - { type: shell, id: later, command: "echo \${vars.a}" }
  - { session: later, prompt: "x" }
  - { type: set, vars: { b: 2 } }
  - { type: log, id: env, message: "\${vars.b} \${vars.c} \${env.lower_ok} \${env}" }
  - { type: log, message: 42, on_error: explode, retry: -1 }
  - { type: parallel, steps: [] }
  - { type: foreach, items: [], steps: [{ type: log, message: x }] }
  - type: session
    provider: [claude]
    args: "--x"
    env: [A]
  - nope
`;
    assert.deepEqual(where(source), [
      '4:14 steps[0].session',
      '7:16 steps[2].session',
      '9:22 steps[4].id',
      '9:47 steps[4].message',
      '9:73 steps[4].message',
      '10:41 steps[5].on_error',
      '10:57 steps[5].retry',
      '11:30 steps[6].steps',
      '12:29 steps[7].items',
      '14:15 steps[8].provider',
      '15:11 steps[8].args',
      '16:10 steps[8].env',
      '17:5 steps[9]',
    ]);
  });

  it('reports YAML syntax errors and a missing name or steps', () => {
    assert.deepEqual(where('name: x\nsteps: [\n'), ['3:1 ']);
    assert.deepEqual(where('name: a\nname: b\nsteps: []\n').length, 1);
    assert.deepEqual(errorsOf(''), ['1:1 : the file is empty: a workflow needs name and steps']);
    assert.deepEqual(errorsOf('steps:\n  - { type: log, message: hi }\n'), ['1:1 name: missing required field "name"']);
    assert.deepEqual(errorsOf('name: x\nextra: 1\nsteps: [{ type: log }]\n'), [
      '2:1 extra: unknown field "extra" for a workflow (expected one of: name, description, vars, steps)',
      '3:9 steps[0].message: missing required field "message" for a log step',
    ]);
  });

  it('refuses steps nested too deep instead of overflowing the stack', () => {
    let source = 'name: deep\nsteps:\n';
    let indent = '  ';
    for (let i = 0; i < 40; i++) {
      source += `${indent}- type: parallel\n${indent}  steps:\n`;
      indent += '    ';
    }
    source += `${indent}- { type: log, message: hi }\n`;
    const { errors } = parseWorkflow(source);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.message, 'steps nest more than 32 deep');
    assert.equal(errors[0]?.line, 2 + 32 * 2 + 1);
  });
});
