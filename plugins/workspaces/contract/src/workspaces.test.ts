import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { overEnvSet } from './workspaces.js';

describe('overEnvSet', () => {
  it('puts a start’s own variables over the set’s, and takes the secrets of both once', () => {
    const set = { env: { GREETING: 'hello', LEVEL: 'debug' }, secrets: ['API_TOKEN'] };
    assert.deepEqual(overEnvSet(set, { env: { LEVEL: 'trace' }, secrets: ['API_TOKEN', 'GITHUB_TOKEN'] }), {
      env: { GREETING: 'hello', LEVEL: 'trace' },
      secrets: ['API_TOKEN', 'GITHUB_TOKEN'],
    });
  });

  it('leaves out what is empty, with or without a set', () => {
    assert.deepEqual(overEnvSet(undefined, {}), {});
    assert.deepEqual(overEnvSet({ env: {}, secrets: [] }, { env: undefined, secrets: undefined }), {});
    assert.deepEqual(overEnvSet(undefined, { env: { A: '1' } }), { env: { A: '1' } });
  });
});
