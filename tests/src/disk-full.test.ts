import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { daemonEndpoints } from '@codepiper/sdk';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { TestDaemon, waitFor } from './harness.js';

/** A small file system of its own (tmpfs; mounting needs root): filled to the last byte, then given space again. */
function mountSmallDisk(): string | undefined {
  const dir = mkdtempSync('/tmp/cpt-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

/** Writes to a file (`fill` byte) until the disk refuses another byte. */
function fill(file: string, flags: 'w' | 'a' = 'w', fill = 1): void {
  const fd = openSync(file, flags);
  try {
    for (const size of [1 << 16, 1]) {
      const chunk = Buffer.alloc(size, fill);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
      }
    }
  } finally {
    closeSync(fd);
  }
}

const disk = mountSmallDisk();

describe('a full disk under the daemon', { skip: disk ? false : 'needs root to mount a small tmpfs', timeout: 120_000 }, () => {
  const mount = disk ?? '';
  const filler = path.join(mount, 'filler');
  let daemon: TestDaemon;

  before(async () => {
    const home = path.join(mount, 'home');
    mkdirSync(home, { mode: 0o700 });
    daemon = new TestDaemon(home);
    await daemon.start();
  });
  after(async () => {
    rmSync(filler, { force: true });
    await daemon?.dispose();
    execFileSync('umount', ['-l', mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  const start = (code: number): Promise<SessionRecord> =>
    daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', args: ['sh', '-c', `read go; echo ending with ${code}; exit ${code}`] } });
  const show = (session: SessionRecord) => daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
  const exited = (session: SessionRecord) => waitFor(`session ${session.name} to be recorded as exited`, async () => ((await show(session)).status === 'exited' ? show(session) : undefined), 30_000);
  /** What `codepiper daemon status` lists as wrong, once `ready` holds for it. */
  const problemsOnceThey = (what: string, ready: (problems: string[]) => boolean) =>
    waitFor(what, async () => {
      const status = await daemon.cli(['daemon', 'status']);
      assert.equal(status.code, 0, status.stderr);
      const problems = status.stdout.split('\n').filter((line) => line.startsWith('problem:'));
      return ready(problems) ? problems : undefined;
    }, 30_000);

  test('keeps serving; a program that exits meanwhile keeps its exit code, recorded once there is space', async () => {
    const session = await start(7);
    fill(filler);
    // The log file's last block is full too (empty lines): the daemon's next log line cannot be written.
    fill(path.join(daemon.home, 'logs', 'daemon.log'), 'a', 0x0a);
    await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });
    // The program has ended; the daemon could record neither that nor a log line, and says so.
    const problems = await problemsOnceThey('the unrecorded end to be listed', (listed) => listed.some((p) => p.includes(session.name)));
    assert.match(problems.join('\n'), new RegExp(`the end of session ${session.name} \\(exit code 7\\) is not recorded yet: .*SQLITE_FULL`));
    assert.match(problems.join('\n'), /log lines cannot be written to .*daemon\.log \(disk full\?\)/);
    assert.equal((await daemon.client.call(daemonEndpoints.health)).ok, true);
    assert.ok((await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.some((s) => s.id === session.id));
    assert.equal(daemon.process?.exitCode, null, 'the daemon is running');
    rmSync(filler);
    const ended = await exited(session);
    assert.deepEqual([ended.exitCode, ended.statusDetail], [7, null]);
    await problemsOnceThey('the problems to clear once there is space', (listed) => listed.length === 0);
    const log = readFileSync(path.join(daemon.home, 'logs', 'daemon.log'), 'utf8');
    assert.match(log, /log line\(s\) could not be written \(disk full\?\)/);
    assert.match(log, /recorded the end of session .* at attempt \d+/);
  });

  test('a daemon stopped while the disk is full, started with space again, records the exit code', async () => {
    const session = await start(9);
    fill(filler);
    await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });
    await problemsOnceThey('the unrecorded end to be listed', (listed) => listed.some((p) => p.includes(session.name)));
    await daemon.stop();
    rmSync(filler);
    await daemon.start();
    const ended = await exited(session);
    assert.equal(ended.exitCode, 9);
  });
});
