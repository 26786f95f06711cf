import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ensureHome, resolvePaths } from './paths.js';
import { tempDir } from './testing.js';

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;

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
});
