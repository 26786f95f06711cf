import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from './duration.js';
import { interpolate, interpolateValue, InterpolationError, parseTemplate, TemplateError, type InterpolationContext } from './interpolate.js';
import { foreachItems } from './items.js';
import { prepareShellCommand, shellScript } from './shell.js';

const context: InterpolationContext = {
  steps: { 'run-tests': { result: 'FAIL: a.test', exit_code: 1 }, list: { output: 'a\nb\n' } },
  vars: { name: 'world', dirs: ['cli', 'core'], nested: { x: 1 } },
  env: { HOME: '/home/me' },
  locals: { item: { dir: 'sdk' } },
};

describe('interpolation', () => {
  it('replaces step outputs, vars, env and loop variables', () => {
    assert.equal(interpolate('Fix: ${run-tests.result} (${run-tests.exit_code})', context), 'Fix: FAIL: a.test (1)');
    assert.equal(interpolate('hello ${vars.name} in ${env.HOME}', context), 'hello world in /home/me');
    assert.equal(interpolate('${item.dir}/${vars.nested.x} ${vars.dirs}', context), 'sdk/1 ["cli","core"]');
    assert.equal(interpolate('${env.NOT_SET}|', context), '|');
    assert.equal(interpolate('cost: $5, literal $${vars.name}', context), 'cost: $5, literal ${vars.name}');
  });

  it('keeps a lone reference as its value', () => {
    assert.deepEqual(interpolateValue('${vars.dirs}', context), ['cli', 'core']);
    assert.equal(interpolateValue('x ${vars.name}', context), 'x world');
  });

  it('fails on missing values and malformed references', () => {
    assert.throws(() => interpolate('${nope.result}', context), InterpolationError);
    assert.throws(() => interpolate('${vars.missing}', context), InterpolationError);
    assert.throws(() => parseTemplate('a ${vars.name'), (e: unknown) => e instanceof TemplateError && e.offset === 2);
    assert.throws(() => parseTemplate('${vars name}'), TemplateError);
    assert.throws(() => parseTemplate('${}'), TemplateError);
  });

  it('turns foreach values into lists', () => {
    assert.deepEqual(foreachItems(['a']), ['a']);
    assert.deepEqual(foreachItems('["x", 2]'), ['x', 2]);
    assert.deepEqual(foreachItems(' a\n\n b \n'), ['a', 'b']);
    assert.deepEqual(foreachItems(''), []);
  });

  it('parses durations with units only', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5s'), 1500);
    for (const bad of ['30', 's', '5 m', '1m1h', '1d', '', '-1s']) assert.equal(parseDuration(bad), undefined, bad);
  });

  it('writes durations back as a file would', () => {
    for (const text of ['250ms', '1s', '5m', '1m30s', '2h5s']) assert.equal(formatDuration(parseDuration(text) as number), text);
  });
});

describe('shell commands', () => {
  const run = (command: string | string[], ctx: InterpolationContext): string => {
    const { file, args } = prepareShellCommand(command, ctx);
    return execFileSync(file, args, { encoding: 'utf8' });
  };
  const hostile = `it's "q"; touch /tmp/cp-pwned-$$ $(id) \`id\` \\ * ~`;
  const ctx: InterpolationContext = { steps: {}, vars: { v: hostile, w: 'two words' }, env: {} };

  it('passes values as positional parameters, never as script text', () => {
    const { script, refs } = shellScript('echo ${vars.v} "in ${vars.w} dq" \'in ${vars.w} sq\'');
    assert.equal(script, 'echo "${1}" "in ${2} dq" \'in \'"${3}"\' sq\'');
    assert.deepEqual(refs, [['vars', 'v'], ['vars', 'w'], ['vars', 'w']]);
  });

  it('gives each value as one literal word wherever it stands', () => {
    assert.equal(run('printf "%s|" ${vars.v} ${vars.w}', ctx), `${hostile}|two words|`);
    assert.equal(run('printf "%s|" "x${vars.w}y"', ctx), 'xtwo wordsy|');
    assert.equal(run("printf '%s|' 'a ${vars.w} b'", ctx), 'a two words b|');
    assert.equal(run('printf "%s|" \\"${vars.w}', ctx), '"two words|', 'an escaped quote does not open a string');
    assert.equal(run(['printf', '%s|', '${vars.v}', 'x ${vars.w}'], ctx), `${hostile}|x two words|`);
  });
});
