import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atLeast, parseVersion } from './versions.js';

describe('parseVersion / atLeast', () => {
  it('reads node and tmux version strings', () => {
    assert.deepEqual(parseVersion('20.17.0'), [20, 17]);
    assert.deepEqual(parseVersion('tmux 3.3a'), [3, 3]);
    assert.deepEqual(parseVersion('tmux next-3.4'), [3, 4]);
    assert.equal(parseVersion('tmux master'), undefined);
  });

  it('compares major then minor', () => {
    assert.equal(atLeast([20, 17], [20, 17]), true);
    assert.equal(atLeast([20, 16], [20, 17]), false);
    assert.equal(atLeast([21, 0], [20, 17]), true);
    assert.equal(atLeast([3, 10], [3, 2]), true);
    assert.equal(atLeast([2, 9], [3, 2]), false);
  });
});
