import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ensureHome, resolvePaths } from './paths.js';
import { tempDir } from './testing.js';

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;

const NOBODY = 65534;

/** A directory made with exactly `mode` (mkdir's mode goes through the umask). */
function dirWithMode(dir: string, mode: number): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, mode);
  return dir;
}

/** Asserts that `check` throws an error naming `dir` and matching each of `patterns`. */
function assertRefuses(check: () => unknown, dir: string, ...patterns: RegExp[]): void {
  assert.throws(check, (error: Error) => {
    assert.ok(error.message.includes(dir), `the message names ${dir}: ${error.message}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

/** Paths for a home at `<temp dir>/home`, not yet created. */
const freshHome = (t: TestContext) => resolvePaths({ CODEPIPER_HOME: path.join(tempDir(t), 'home') });

describe('paths', () => {
  it('lives in ~/.codepiper unless CODEPIPER_HOME says otherwise', () => {
    assert.equal(resolvePaths({ HOME: '/home/u' }).home, '/home/u/.codepiper');
    const paths = resolvePaths({ HOME: '/home/u', CODEPIPER_HOME: '/srv/cp/../cp2' });
    assert.equal(paths.home, '/srv/cp2');
    assert.equal(paths.socket, '/srv/cp2/daemon.sock');
    assert.equal(paths.pidFile, '/srv/cp2/run/daemon.pid');
  });

  it('refuses a home whose socket path would be too long for a Unix socket', () => {
    assert.throws(() => resolvePaths({ CODEPIPER_HOME: `/tmp/${'x'.repeat(100)}` }), /set CODEPIPER_HOME to a shorter directory/);
  });

  it('creates a private home, tightening one that exists', (t) => {
    const home = path.join(tempDir(t), 'home');
    fs.mkdirSync(home, { mode: 0o755 });
    fs.chmodSync(home, 0o755);
    const paths = resolvePaths({ CODEPIPER_HOME: home });
    ensureHome(paths);
    assert.equal(modeOf(home), 0o700);
    assert.equal(modeOf(paths.logs), 0o700);
    assert.equal(modeOf(paths.run), 0o700);
  });

  it('creates a plugin’s directory on first use', (t) => {
    const paths = resolvePaths({ CODEPIPER_HOME: tempDir(t) });
    const dir = paths.pluginData('sessions');
    assert.equal(dir, path.join(paths.home, 'plugins', 'sessions'));
    assert.equal(modeOf(dir), 0o700);
    assert.throws(() => paths.pluginData('../etc'), /not a plugin name/);
  });

  describe('refuses a home others could have written to', () => {
    it('writable by its group', (t) => {
      const paths = freshHome(t);
      dirWithMode(paths.home, 0o770);
      assertRefuses(() => ensureHome(paths), paths.home, /writable by its group \(mode 0770\)/, /chmod 700 /);
      assert.equal(fs.existsSync(paths.logs), false, 'nothing is made inside it');
    });

    it('writable by others', (t) => {
      const paths = freshHome(t);
      dirWithMode(paths.home, 0o777);
      assertRefuses(() => ensureHome(paths), paths.home, /writable by its group and others \(mode 0777\)/, /chmod 700 /);
      dirWithMode(paths.home, 0o1703);
      assertRefuses(() => ensureHome(paths), paths.home, /writable by others \(mode 1703\)/);
    });

    for (const sub of ['logs', 'run', 'plugins', 'plugins/secrets']) {
      it(`with ${sub}/ writable by others`, (t) => {
        const paths = freshHome(t);
        dirWithMode(paths.home, 0o700);
        const dir = dirWithMode(path.join(paths.home, sub), 0o757);
        assertRefuses(() => ensureHome(paths), dir, /writable by others \(mode 0757\)/, new RegExp(`chmod 700 ${dir}$`));
      });
    }

    it('with a plugin directory made writable by others after start', (t) => {
      const paths = freshHome(t);
      ensureHome(paths);
      const dir = paths.pluginData('secrets');
      fs.chmodSync(dir, 0o777);
      assertRefuses(() => paths.pluginData('secrets'), dir, /writable by its group and others/);
      fs.chmodSync(dir, 0o700);
      fs.chmodSync(path.dirname(dir), 0o777);
      assertRefuses(() => paths.pluginData('secrets'), path.dirname(dir), /writable by its group and others/);
    });

    it('that belongs to another user', (t) => {
      if (process.geteuid?.() !== 0) {
        t.skip('needs root, to give the home to another user (uid 65534)');
        return;
      }
      const paths = freshHome(t);
      dirWithMode(paths.home, 0o700);
      fs.chownSync(paths.home, NOBODY, NOBODY);
      assertRefuses(() => ensureHome(paths), paths.home, /belongs to uid 65534, not to the daemon's user \(uid 0\)/, /chown 0 /);
      assert.equal(fs.existsSync(paths.logs), false, 'nothing is made inside it');
    });

    it('that is a symbolic link to a directory writable by others', (t) => {
      const target = dirWithMode(path.join(tempDir(t), 'target'), 0o777);
      const paths = freshHome(t);
      fs.symlinkSync(target, paths.home);
      assertRefuses(() => ensureHome(paths), paths.home, new RegExp(`a link to ${target}\\).*mode 0777.*chmod 700 ${target}`));
    });

    it('that is a symbolic link to another user’s directory', (t) => {
      if (process.geteuid?.() !== 0) {
        t.skip('needs root, to give the target to another user (uid 65534)');
        return;
      }
      const target = dirWithMode(path.join(tempDir(t), 'target'), 0o700);
      fs.chownSync(target, NOBODY, NOBODY);
      const paths = freshHome(t);
      fs.symlinkSync(target, paths.home);
      assertRefuses(() => ensureHome(paths), paths.home, /belongs to uid 65534/);
    });

    it('but takes a symbolic link to a private directory of ours', (t) => {
      const target = dirWithMode(path.join(tempDir(t), 'target'), 0o755);
      const paths = freshHome(t);
      fs.symlinkSync(target, paths.home);
      ensureHome(paths);
      assert.equal(modeOf(target), 0o700);
      assert.equal(modeOf(path.join(target, 'logs')), 0o700);
    });
  });
});
