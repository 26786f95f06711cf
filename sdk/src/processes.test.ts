import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { listProcesses, processEnvironment, readProcess } from './processes.js';
import { waitFor } from './testing.js';

test('a child process is listed with its name, state, parent, group, command line and environment, and is gone once it has exited', async (t) => {
  // /proc/PID/stat puts the name in parentheses, before the fields read after it: a name holding both is the hard case.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'processes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const odd = path.join(dir, 'a) b (c');
  symlinkSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim(), odd);
  const child = spawn(odd, ['30'], { env: { PROCESSES_TEST: 'yes' } });
  await once(child, 'spawn');
  const pid = child.pid!;
  try {
    const listed = await waitFor('the child in the list', () => listProcesses().find((p) => p.pid === pid));
    assert.deepEqual({ ...listed, state: undefined }, { pid, name: 'a) b (c', state: undefined, parent: process.pid, group: readProcess(process.pid)?.group, command: `${odd} 30` });
    assert.match(listed.state, /^[RS]$/);
    assert.deepEqual(processEnvironment(pid), ['PROCESSES_TEST=yes']);
  } finally {
    child.kill();
    await once(child, 'exit');
  }
  assert.equal(readProcess(pid), undefined);
  assert.deepEqual(processEnvironment(pid), []);
});
