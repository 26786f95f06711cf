import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from './testing.js';

describe('waitFor', () => {
  test('resolves with the first value that is neither undefined nor false, past a probe that threw', async () => {
    let asked = 0;
    const value = await waitFor('the third answer', () => {
      asked++;
      if (asked === 1) throw new Error('not yet');
      return asked === 3 ? 'ready' : false;
    });
    assert.equal(value, 'ready');
    assert.equal(asked, 3);
  });

  test('a wait that times out names what it waited for, the probe’s last error and the moment’s context', async () => {
    await assert.rejects(
      waitFor(
        'the file',
        () => {
          throw new Error('ENOENT: out.txt');
        },
        120,
        () => 'screen:\n$ _',
      ),
      (error: Error) => {
        assert.match(error.message, /^timed out after 120 ms waiting for the file: Error: ENOENT: out\.txt\nscreen:\n\$ _$/);
        return true;
      },
    );
  });
});
