import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;

/**
 * A private directory (mode 0700, a path with no character a shell or tmux
 * would read) for paste files and watch pipes, made when first needed.
 */
export class ScratchDir {
  private dir: Promise<string> | undefined;
  private made = 0;

  /** A new path in it, `<prefix>-<n>`, unique for this directory's life. */
  async path(prefix: string): Promise<string> {
    this.dir ??= mkdtemp(path.join(SAFE_PATH.test(tmpdir()) ? tmpdir() : '/tmp', 'cp-scratch-'));
    return path.join(await this.dir, `${prefix}-${++this.made}`);
  }

  /** Removes it and what is in it; a later `path` makes a new one. */
  async remove(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    const made = await dir?.catch(() => undefined);
    if (made) await rm(made, { recursive: true, force: true }).catch(() => undefined);
  }
}
