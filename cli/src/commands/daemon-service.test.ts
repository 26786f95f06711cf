import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { launchdPlist, serviceFile, systemdUnit, type ServiceSpec } from './daemon-service.js';

const spec: ServiceSpec = {
  argv: [process.execPath, '/opt/code piper/bin/codepiper.cjs', 'daemon'],
  env: { PATH: '/usr/bin:/bin', CODEPIPER_HOME: '/home/dev/my "home" 100% <&>' },
  home: '/home/dev/.codepiper',
};
const has = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const hasSystemd = has('systemd-analyze');
/** Python's plistlib reads property lists as launchd does (this machine has no launchd to load one). */
const hasPython = has('python3');

function parsePlist(text: string): unknown {
  const parsed = spawnSync('python3', ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], { input: text, encoding: 'utf8' });
  assert.equal(parsed.status, 0, parsed.stderr);
  return JSON.parse(parsed.stdout);
}

describe('the daemon as a login service', () => {
  it('quotes what systemd would split or expand, and systemd reads it back', { skip: !hasSystemd && 'systemd-analyze is not installed' }, () => {
    const unit = systemdUnit(spec);
    assert.match(unit, /^ExecStart=\S+ "\/opt\/code piper\/bin\/codepiper\.cjs" daemon$/m);
    assert.match(unit, /^Environment="CODEPIPER_HOME=\/home\/dev\/my \\"home\\" 100%% <&>"$/m);
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

  it('makes a launchd agent that runs at load, restarts on failure and keeps the sessions when it stops', { skip: !hasPython && 'python3 is not installed' }, () => {
    const agent = parsePlist(launchdPlist(spec)) as Record<string, unknown>;
    assert.deepEqual(agent.ProgramArguments, spec.argv);
    assert.deepEqual(agent.EnvironmentVariables, spec.env);
    assert.equal(agent.RunAtLoad, true);
    assert.deepEqual(agent.KeepAlive, { SuccessfulExit: false });
    assert.equal(agent.AbandonProcessGroup, true);
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
