import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writePrivateFiles } from './hook-forwarder.js';

describe('writing a session’s private files here', () => {
  it('replaces a file whole: a hook still reading the old script reads it to its end; the new one is private', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'private-files-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'session', 'hook.sh');
    await writePrivateFiles([{ path: script, content: 'the old script\n', mode: 0o700 }]);
    const reading = openSync(script, 'r');
    t.after(() => closeSync(reading));

    await writePrivateFiles([{ path: script, content: 'the new script, longer than the old one\n', mode: 0o700 }]);
    const buffer = Buffer.alloc(100);
    assert.equal(buffer.subarray(0, readSync(reading, buffer, 0, 100, 0)).toString(), 'the old script\n');
    assert.equal(readFileSync(script, 'utf8'), 'the new script, longer than the old one\n');
    assert.equal(statSync(script).mode & 0o777, 0o700);
    assert.equal(statSync(path.dirname(script)).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(path.dirname(script)), ['hook.sh'], 'nothing left beside it');
  });
});
