import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as Type from '@sinclair/typebox';
import { YamlError, YamlSource } from './yaml-source.js';

const Policy = Type.Object({ name: Type.String(), action: Type.Union([Type.Literal('allow'), Type.Literal('deny')]), priority: Type.Integer({ default: 0 }) }, { additionalProperties: false });

const failure = (run: () => unknown): YamlError => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof YamlError);
    return error;
  }
  return assert.fail('no error');
};

describe('YamlSource', () => {
  it('says where text does not parse', () => {
    const error = failure(() => new YamlSource('a: 1\nb: [2\n', 'broken.yaml'));
    assert.match(error.message, /^broken\.yaml:\d+:\d+: /);
    assert.equal(error.key, undefined);
  });

  it('applies defaults and points at the line and column of the first error, with the key path', () => {
    const source = new YamlSource('policies:\n  - name: fine\n    action: allow\n  - name: odd\n    action: perhaps\n', 'set.yaml');
    const [fine, odd] = (source.value() as { policies: unknown[] }).policies;
    assert.deepEqual(source.validate(Policy, fine, ['policies', 0]), { name: 'fine', action: 'allow', priority: 0 });
    const error = failure(() => source.validate(Policy, odd, ['policies', 1]));
    assert.equal(error.message, 'set.yaml:5:5: policies.1.action: expected one of "allow", "deny", got "perhaps"');
    assert.equal(error.key, 'policies.1.action');
  });

  it('points at the nearest key the document has for a missing one, and names unknown ones', () => {
    const source = new YamlSource('- name: lone\n- name: x\n  action: deny\n  colour: red\n', 'list.yaml');
    const [lone, extra] = source.value() as unknown[];
    assert.equal(failure(() => source.validate(Policy, lone, [0])).message, 'list.yaml:1:3: 0.action: missing; this setting is required');
    assert.equal(failure(() => source.validate(Policy, extra, [1])).message, 'list.yaml:4:3: 1.colour: unknown setting');
  });

  it('keeps every syntax error, each with its line, column and reason, for a reader that reports them all', () => {
    const source = new YamlSource('a: [1\nb: }\n', 'two.yaml', { keepSyntaxErrors: true });
    assert.ok(source.syntaxErrors.length >= 1);
    for (const error of source.syntaxErrors) {
      assert.ok(error.position && error.position.line >= 1 && error.position.column >= 1, error.message);
      assert.equal(error.message, `two.yaml:${error.position.line}:${error.position.column}: ${error.reason}`);
      assert.doesNotMatch(error.reason, /at line/);
    }
  });

  it('says where a key is, as NAME:LINE:COL', () => {
    const source = new YamlSource('plugins:\n  - one\n  - ./two.js\n', 'config.yaml');
    assert.equal(source.where(['plugins', 1]), 'config.yaml:3:5');
    assert.equal(source.where(['plugins', 7]), 'config.yaml:1:1');
  });
});
