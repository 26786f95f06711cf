import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, DaemonUnreachableError } from '@codepiper/sdk';
import { describeError, forSession, sessionLookupError, UsageError } from './errors.js';

describe('describeError', () => {
  it('maps usage errors to exit 2 with a pointer to the help', () => {
    assert.deepEqual(describeError(new UsageError('bad'), 'codepiper x --help'), { message: 'bad (see: codepiper x --help)', exitCode: 2 });
    const cacError = Object.assign(new Error('Unknown option `--nope`'), { name: 'CACError' });
    assert.equal(describeError(cacError, 'codepiper x --help').exitCode, 2);
  });

  it('maps a missing daemon to exit 3 with how to start it', () => {
    const { message, exitCode } = describeError(new DaemonUnreachableError('/h/daemon.sock', new Error('ENOENT')), '');
    assert.equal(message, 'the daemon is not running (no socket at /h/daemon.sock). Start it with: codepiper daemon --detach');
    assert.equal(exitCode, 3);
  });

  it('maps anything else to exit 1', () => {
    assert.deepEqual(describeError(new ApiError(400, 'invalid_request', 'cwd must be absolute'), ''), { message: 'cwd must be absolute', exitCode: 1 });
    assert.deepEqual(describeError('odd', ''), { message: 'odd', exitCode: 1 });
  });
});

describe('sessionLookupError / forSession', () => {
  it('quotes the id the user typed', () => {
    assert.equal((sessionLookupError('zz', new ApiError(404, 'not_found', 'session not found')) as Error).message, 'no session matches id "zz"');
  });

  it('passes other errors through, an ambiguous id with the daemon’s list of candidates', async () => {
    const ambiguous = new ApiError(409, 'ambiguous_id', 'session "ab" is ambiguous: it matches ab12aaaa (build), ab98bbbb (test)');
    assert.equal(sessionLookupError('ab', ambiguous), ambiguous);
    const other = new ApiError(403, 'input_refused', 'no');
    assert.equal(sessionLookupError('ab', other), other);
    await assert.rejects(forSession('ab', Promise.reject(other)), (e) => e === other);
    assert.equal(await forSession('ab', Promise.resolve(5)), 5);
  });
});
