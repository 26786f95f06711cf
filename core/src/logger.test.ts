import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';
import { tempDir } from './testing.js';

describe('createLogger', () => {
  it('writes JSON lines to a private file, secrets redacted, at the level asked', (t) => {
    const file = path.join(tempDir(t), 'daemon.log');
    const { log, close } = createLogger({ file, level: 'info', foreground: false });
    log.debug('too chatty');
    log.info({ request: { token: 't0ps3cret', headers: { authorization: 'Bearer x' } }, password: 'hunter2' }, 'hello');
    close();
    log.info('after close');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.msg, 'hello');
    assert.equal(lines[0]?.password, '[redacted]');
    assert.deepEqual(lines[0]?.request, { token: '[redacted]', headers: { authorization: '[redacted]' } });
  });
});
