import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { endLeftoverGroup, processStartTime } from './process-group.js';

/**
 * A group of its own, as a shell step's: a shell and the sleep it waits on,
 * returned once the script has printed "ready" (its traps are set by then: a
 * signal sent as it starts would otherwise meet a shell without them).
 */
async function group(script: string): Promise<{ child: ChildProcess; pgid: number; startTime: string }> {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  await once(child.stdout!, 'data');
  // Nothing more is read: the pipe would keep this test running as long as the sleep holds it.
  child.stdout!.destroy();
  const pgid = child.pid!;
  const startTime = await processStartTime(pgid);
  assert.ok(startTime, 'a live process has a start time');
  return { child, pgid, startTime };
}

const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit'));

test('a leftover group is ended, one that ignores SIGTERM by SIGKILL', async () => {
  const polite = await group('echo ready; sleep 30');
  const stubborn = await group('trap "" TERM; echo ready; sleep 30 & wait');
  assert.equal(await endLeftoverGroup(polite), true);
  assert.equal(await endLeftoverGroup(stubborn), true);
  await exited(polite.child);
  await exited(stubborn.child);
  assert.equal(polite.child.signalCode, 'SIGTERM');
  assert.equal(stubborn.child.signalCode, 'SIGKILL');
});

test('a group whose leader is not the recorded process (its pid reused) is left alone', async () => {
  const other = await group('echo ready; sleep 30');
  try {
    assert.equal(await endLeftoverGroup({ pgid: other.pgid, startTime: String(Number(other.startTime) - 1) }), false);
    assert.equal(other.child.exitCode, null);
    assert.equal(other.child.signalCode, null);
  } finally {
    process.kill(-other.pgid, 'SIGKILL');
  }
});

test('a group that has gone is nothing to end', async () => {
  const gone = await group('echo ready; sleep 30');
  process.kill(-gone.pgid, 'SIGKILL');
  await exited(gone.child);
  assert.equal(await endLeftoverGroup(gone), false);
});
