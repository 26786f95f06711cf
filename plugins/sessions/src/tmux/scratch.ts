import { constants } from 'node:fs';
import { lstat, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;
const PREFIX = 'cp-scratch-';
/** `cp-scratch-<pid of the process that made it>-<random>`. */
const MADE_BY = /^cp-scratch-(\d+)-[A-Za-z0-9]+$/;

/**
 * A private directory (mode 0700, a path with no character a shell or tmux
 * would read) for paste files and watch pipes, made when first needed, in
 * `near` (the tmux socket's directory) unless that path has such a character.
 * Its name carries the pid of the process that made it: one that was killed
 * before it could remove its own leaves it behind, and `removeLeftovers`
 * removes those of processes no longer running.
 */
export class ScratchDir {
  private dir: Promise<string> | undefined;
  private made = 0;
  private readonly parent: string;

  constructor(near: string) {
    this.parent = SAFE_PATH.test(near) ? near : SAFE_PATH.test(tmpdir()) ? tmpdir() : '/tmp';
  }

  /** A new path in it, `<prefix>-<n>`, unique for this directory's life. */
  async path(prefix: string): Promise<string> {
    this.dir ??= mkdtemp(path.join(this.parent, `${PREFIX}${process.pid}-`));
    return path.join(await this.dir, `${prefix}-${++this.made}`);
  }

  /**
   * Removes the scratch directories of processes that have ended, which only
   * this user's can be (0700); a pid in use again keeps its directory.
   * Not in a shared directory (/tmp): a process there may be in another pid
   * namespace, alive though no such pid runs here.
   */
  async removeLeftovers(): Promise<void> {
    if (this.parent === tmpdir() || this.parent === '/tmp') return;
    for (const name of await readdir(this.parent)) {
      const pid = Number(MADE_BY.exec(name)?.[1]);
      if (!pid || pid === process.pid || isRunning(pid)) continue;
      const dir = path.join(this.parent, name);
      if (!(await lstat(dir)).isDirectory()) continue;
      await releaseWriters(dir);
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Removes it and what is in it; a later `path` makes a new one. */
  async remove(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    const made = await dir?.catch(() => undefined);
    if (made) await rm(made, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Opens each FIFO in `dir` for reading, and closes it: a pane pipe's `cat`
 * that tmux started just before its daemon was killed waits to open its FIFO
 * until a reader does, forever otherwise. Let go, it ends at its next write
 * (no reader) or when tmux closes its pipe.
 */
async function releaseWriters(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFIFO()) continue;
    const reader = await open(path.join(dir, entry.name), constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
    await reader?.close();
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
