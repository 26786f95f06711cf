import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { SecretCipher } from './cipher.js';

const NOBODY = 65534;

/** A fresh private directory, removed after the test. */
function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-secrets-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A key file made by a first `open`. */
function keyFile(t: TestContext): string {
  const file = path.join(tempDir(t), 'secret.key');
  SecretCipher.open(file);
  return file;
}

describe('SecretCipher', () => {
  it('creates a 0600 key file, and seals values with it', (t) => {
    const file = keyFile(t);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const sealed = SecretCipher.open(file).seal('TOKEN', 'value');
    assert.equal(SecretCipher.open(file).open('TOKEN', sealed), 'value');
    assert.throws(() => SecretCipher.open(file).open('OTHER', sealed), /does not decrypt/);
  });

  it('refuses a key file that is a symbolic link, naming both ends', (t) => {
    const real = keyFile(t);
    const link = path.join(tempDir(t), 'secret.key');
    fs.symlinkSync(real, link);
    assert.throws(() => SecretCipher.open(link), (error: Error) => {
      assert.match(error.message, /symbolic link/);
      assert.ok(error.message.includes(link) && error.message.includes(real), error.message);
      assert.match(error.message, /mv /);
      return true;
    });
  });

  it('refuses a dangling symbolic link instead of creating a key where it points', (t) => {
    const dir = tempDir(t);
    const link = path.join(dir, 'secret.key');
    fs.symlinkSync(path.join(dir, 'elsewhere.key'), link);
    assert.throws(() => SecretCipher.open(link), /symbolic link/);
    assert.equal(fs.existsSync(path.join(dir, 'elsewhere.key')), false);
  });

  it('refuses a key file readable by its group', (t) => {
    const file = keyFile(t);
    fs.chmodSync(file, 0o640);
    assert.throws(() => SecretCipher.open(file), (error: Error) => {
      assert.ok(error.message.includes(file), error.message);
      assert.match(error.message, /group or others \(mode 0640\): chmod 600 /);
      return true;
    });
  });

  it('refuses a key file that is not a regular file', (t) => {
    const dir = path.join(tempDir(t), 'secret.key');
    fs.mkdirSync(dir, { mode: 0o700 });
    assert.throws(() => SecretCipher.open(dir), /not a regular file/);
  });

  it('refuses a key file that belongs to another user', (t) => {
    if (process.geteuid?.() !== 0) {
      t.skip('needs root, to give the file to another user (uid 65534)');
      return;
    }
    const file = keyFile(t);
    fs.chownSync(file, NOBODY, NOBODY);
    assert.throws(() => SecretCipher.open(file), (error: Error) => {
      assert.ok(error.message.includes(file), error.message);
      assert.match(error.message, /belongs to uid 65534, not to the daemon's user \(uid 0\).*chown 0 /);
      return true;
    });
  });
});
