import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ScratchDir } from './scratch.js';

function near(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scratch-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The pid of a process that has ended. */
const endedPid = (): number => spawnSync('true').pid;

describe('a scratch directory', () => {
  it('is made beside the tmux socket, private, named for this process, and removed with what is in it', async (t) => {
    const dir = near(t);
    const scratch = new ScratchDir(dir);
    const file = await scratch.path('pipe');
    assert.match(path.relative(dir, file), new RegExp(`^cp-scratch-${process.pid}-[A-Za-z0-9]+/pipe-1$`));
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(path.basename(await scratch.path('pipe')), 'pipe-2');
    await scratch.remove();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('removes those an ended process left, and nothing else', async (t) => {
    const dir = near(t);
    const outside = near(t);
    const left = path.join(dir, `cp-scratch-${endedPid()}-Ab12cd`);
    mkdirSync(path.join(left, 'inside'), { recursive: true });
    const kept = [`cp-scratch-${process.ppid}-Xy34zw`, `cp-scratch-${process.pid}-Qq56rt`, 'cp-scratch-Mn78op', 'tmux.sock.d'];
    for (const name of kept) mkdirSync(path.join(dir, name));
    // A link by that name is not followed into what it points to.
    const link = `cp-scratch-${endedPid()}-Ln90kj`;
    symlinkSync(outside, path.join(dir, link));

    await new ScratchDir(dir).removeLeftovers();
    assert.equal(existsSync(left), false, 'the ended process’s directory is gone');
    assert.deepEqual(readdirSync(dir).sort(), [...kept, link].sort());
    assert.ok(existsSync(outside));
  });

  it('lets go a pipe’s writer that waits for a reader of its ended daemon, before removing its FIFO', async (t) => {
    const dir = near(t);
    const left = path.join(dir, `cp-scratch-${endedPid()}-Wr12it`);
    mkdirSync(left);
    const fifo = path.join(left, 'pipe-1');
    assert.equal(spawnSync('mkfifo', ['-m', '600', fifo]).status, 0);
    // As tmux starts it for pipe-pane; the daemon that would have read was killed first.
    const writer = spawn('sh', ['-c', 'exec cat > "$0"', fifo], { stdio: ['ignore', 'ignore', 'ignore'] });
    t.after(() => writer.kill('SIGKILL'));
    const exited = once(writer, 'exit');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(writer.exitCode, null, 'it waits to open the FIFO');

    await new ScratchDir(dir).removeLeftovers();
    await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error('the writer still waits')), 10_000))]);
    assert.equal(existsSync(left), false);
  });

  it('goes to the temporary directory when the socket’s path has a space, and leaves what others have there', async (t) => {
    const spaced = path.join(near(t), 'with space');
    mkdirSync(spaced);
    const scratch = new ScratchDir(spaced);
    t.after(() => scratch.remove());
    const file = await scratch.path('paste');
    assert.equal(path.dirname(path.dirname(file)), os.tmpdir());

    const other = mkdtempSync(path.join(os.tmpdir(), `cp-scratch-${endedPid()}-`));
    t.after(() => rmSync(other, { recursive: true, force: true }));
    await scratch.removeLeftovers();
    assert.ok(existsSync(other), 'a shared directory is not swept: its pids may be another namespace’s');
  });
});
