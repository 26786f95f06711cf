import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/codepiper.cjs', import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'cp-compile-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** `codepiper --help` (it loads every command group) with its code cached under `cacheHome`. */
const help = (cacheHome: string): string =>
  execFileSync(process.execPath, [bin, '--help'], { env: { ...process.env, XDG_CACHE_HOME: cacheHome, CODEPIPER_HOME: path.join(root, 'home') }, encoding: 'utf8' });

const codeDir = (cacheHome: string): string => path.join(cacheHome, 'codepiper', `v8-${process.version}-${process.arch}`);

/** Each cached chunk's file and its contents. */
function cached(cacheHome: string): Map<string, Buffer> {
  const dir = codeDir(cacheHome);
  return new Map(readdirSync(dir).map((file) => [file, readFileSync(path.join(dir, file))]));
}

describe('the compiled code cache', () => {
  it('keeps the code of the chunks a command ran, private to the user, and uses it as it is the next time', () => {
    const cacheHome = path.join(root, 'fresh');
    const first = help(cacheHome);
    const files = cached(cacheHome);
    assert.ok([...files.keys()].some((file) => file.startsWith('codepiper-client.cjs.')), [...files.keys()].join(' '));
    assert.equal(statSync(codeDir(cacheHome)).mode & 0o777, 0o700);
    for (const file of files.keys()) assert.equal(statSync(path.join(codeDir(cacheHome), file)).mode & 0o777, 0o600, file);

    assert.equal(help(cacheHome), first);
    // Accepted, so not written again.
    assert.deepEqual(cached(cacheHome), files);
  });

  it('runs a damaged cache as if there were none, and replaces it', () => {
    const cacheHome = path.join(root, 'damaged');
    const expected = help(cacheHome);
    const dir = codeDir(cacheHome);
    for (const [file, code] of cached(cacheHome)) {
      // One byte in the middle of the code: V8 would not notice by itself.
      const damaged = Buffer.from(code);
      const middle = damaged.length >> 1;
      damaged.writeUInt8(damaged.readUInt8(middle) ^ 0xff, middle);
      writeFileSync(path.join(dir, file), damaged);
    }
    const damaged = cached(cacheHome);

    assert.equal(help(cacheHome), expected);
    const replaced = cached(cacheHome);
    assert.deepEqual([...replaced.keys()].sort(), [...damaged.keys()].sort());
    for (const [file, code] of replaced) assert.notDeepEqual(code, damaged.get(file), `${file} was not replaced`);
  });

  it('does not use a directory that others can write to', () => {
    const cacheHome = path.join(root, 'shared');
    mkdirSync(codeDir(cacheHome), { recursive: true });
    chmodSync(codeDir(cacheHome), 0o777);
    assert.match(help(cacheHome), /Usage:/);
    assert.deepEqual(readdirSync(codeDir(cacheHome)), []);
  });

  it('works where no cache can be kept', () => {
    writeFileSync(path.join(root, 'a-file'), '');
    assert.match(help(path.join(root, 'a-file')), /Usage:/);
  });
});
