import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { launchdPlist, serviceFile, systemdUnit, type ServiceSpec } from './daemon-service.js';

const spec: ServiceSpec = {
  argv: [process.execPath, '/opt/code piper/bin/codepiper.js', 'daemon'],
  env: { PATH: '/usr/bin:/bin', CODEPIPER_HOME: '/home/dev/my "home" 100%' },
  home: '/home/dev/.codepiper',
};
const hasSystemd = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;

describe('the daemon as a login service', () => {
  it('quotes what systemd would split or expand, and systemd reads it back', { skip: !hasSystemd && 'systemd-analyze is not installed' }, () => {
    const unit = systemdUnit(spec);
    assert.match(unit, /^ExecStart=\S+ "\/opt\/code piper\/bin\/codepiper\.js" daemon$/m);
    assert.match(unit, /^Environment="CODEPIPER_HOME=\/home\/dev\/my \\"home\\" 100%%"$/m);
    const dir = mkdtempSync(path.join(tmpdir(), 'cp-unit-'));
    try {
      writeFileSync(path.join(dir, 'codepiper.service'), unit);
      // The script need not exist for this check: systemd checks the program it runs.
      const verified = spawnSync('systemd-analyze', ['verify', path.join(dir, 'codepiper.service')], { encoding: 'utf8' });
      assert.equal(verified.stderr, '');
      assert.equal(verified.status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes a launchd agent that runs at load, restarts on failure and keeps the sessions when it stops', () => {
    const plist = launchdPlist(spec);
    assert.match(plist, /<key>ProgramArguments<\/key>\s*<array>\s*<string>[^<]+<\/string>\s*<string>\/opt\/code piper\/bin\/codepiper\.js<\/string>\s*<string>daemon<\/string>/);
    assert.match(plist, /<key>CODEPIPER_HOME<\/key>\s*<string>\/home\/dev\/my "home" 100%<\/string>/);
    assert.match(plist, /<key>KeepAlive<\/key>\s*<dict>\s*<key>SuccessfulExit<\/key>\s*<false\/>/);
    assert.match(plist, /<key>AbandonProcessGroup<\/key>\s*<true\/>/);
    const file = serviceFile(spec, 'darwin', { HOME: '/Users/dev' });
    assert.equal(file.file, '/Users/dev/Library/LaunchAgents/dev.codepiper.daemon.plist');
    assert.equal(file.load[0]![1], 'bootstrap');
  });

  it('puts the unit where systemd looks for the user, XDG_CONFIG_HOME first', () => {
    assert.equal(serviceFile(spec, 'linux', { HOME: '/home/dev' }).file, '/home/dev/.config/systemd/user/codepiper.service');
    assert.equal(serviceFile(spec, 'linux', { HOME: '/home/dev', XDG_CONFIG_HOME: '/cfg' }).file, '/cfg/systemd/user/codepiper.service');
    assert.throws(() => serviceFile(spec, 'win32', {}), /no service manager support on win32/);
  });
});
