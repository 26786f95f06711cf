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

  it('keeps the file under its size: full, it is moved to .1 (replacing the one before), private, and no recent line is lost', (t) => {
    const file = path.join(tempDir(t), 'daemon.log');
    const maxBytes = 4096;
    const { log, close } = createLogger({ file, level: 'info', foreground: false, maxBytes });
    const count = 200;
    for (let i = 0; i < count; i++) log.info({ i }, 'a line of the log');
    close();
    const numbers = (name: string) =>
      fs
        .readFileSync(name, 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { i: number }).i);
    const [before, current] = [numbers(`${file}.1`), numbers(file)];
    assert.ok(fs.statSync(file).size < maxBytes && fs.statSync(`${file}.1`).size < maxBytes + 200, 'each within the size (and one line)');
    assert.deepEqual([...before, ...current], Array.from({ length: before.length + current.length }, (_, k) => count - before.length - current.length + k), 'the newest lines, each once, in order');
    assert.equal(current.at(-1), count - 1);
    assert.deepEqual([fs.statSync(file).mode & 0o777, fs.statSync(`${file}.1`).mode & 0o777], [0o600, 0o600]);
    assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), ['daemon.log', 'daemon.log.1']);
  });
});
