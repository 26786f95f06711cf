import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as Type from '@sinclair/typebox';
import { describeFields } from './schema-fields.js';

describe('describeFields', () => {
  it('offers each property of the schema as a string (with its choices), a boolean or a number', () => {
    const schema = Type.Object({
      model: Type.Optional(Type.String({ description: 'The model' })),
      billing: Type.Optional(Type.Union([Type.Literal('subscription'), Type.Literal('api')], { description: 'Who pays' })),
      trust: Type.Optional(Type.Boolean({ description: 'Trust the folder' })),
      turns: Type.Optional(Type.Integer()),
      budget: Type.Number({ description: 'Dollars' }),
      tags: Type.Optional(Type.Array(Type.String())),
    });
    assert.deepEqual(describeFields(schema), [
      { key: 'model', type: 'string', description: 'The model' },
      { key: 'billing', type: 'string', description: 'Who pays', choices: ['subscription', 'api'] },
      { key: 'trust', type: 'boolean', description: 'Trust the folder' },
      { key: 'turns', type: 'number', description: '' },
      { key: 'budget', type: 'number', description: 'Dollars' },
      { key: 'tags', type: 'string', description: '' },
    ]);
  });

  it('offers nothing for a provider without options, and no choices for a union that is not of string literals', () => {
    assert.deepEqual(describeFields(undefined), []);
    assert.deepEqual(describeFields(Type.Object({ size: Type.Union([Type.Literal(1), Type.Literal(2)]) })), [{ key: 'size', type: 'string', description: '' }]);
  });
});
