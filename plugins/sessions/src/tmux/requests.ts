/** What the server is asked about is checked before tmux sees it: a name, a pane, a size, a directory, a program. */
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { TmuxError } from './errors.js';

const SESSION_NAME = /^[A-Za-z0-9_-]{1,100}$/;
const PANE_ID = /^%\d+$/;

export function assertSessionName(name: string): void {
  if (typeof name !== 'string' || !SESSION_NAME.test(name)) {
    throw new TmuxError('invalid_request', `invalid tmux session name ${JSON.stringify(name)}: use 1-100 of A-Z a-z 0-9 _ -`);
  }
}

export function assertPane(pane: string): void {
  if (typeof pane !== 'string' || !PANE_ID.test(pane)) throw new TmuxError('invalid_request', `invalid tmux pane id ${JSON.stringify(pane)}`);
}

export function assertSize(cols: number, rows: number): void {
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || cols > 10_000 || rows > 10_000) {
    throw new TmuxError('invalid_request', `invalid terminal size ${cols}x${rows}`);
  }
}

export async function assertDirectory(cwd: string): Promise<void> {
  if (typeof cwd !== 'string' || !path.isAbsolute(cwd) || cwd.includes('\0')) throw new TmuxError('invalid_request', `the working directory must be an absolute path: ${JSON.stringify(cwd)}`);
  const info = await stat(cwd).catch(() => undefined);
  if (!info?.isDirectory()) throw new TmuxError('invalid_request', `the working directory does not exist: ${cwd}`);
}

/** Fails early, with a clear message, when the program cannot be found (tmux would only show a dead pane). */
export async function assertExecutable(program: string, cwd: string, pathVar: string | undefined): Promise<void> {
  const executable = (file: string): Promise<boolean> =>
    access(file, fsConstants.X_OK).then(
      () => stat(file).then((s) => s.isFile()),
      () => false,
    );
  if (program.includes('/')) {
    if (await executable(path.resolve(cwd, program))) return;
  } else {
    for (const dir of (pathVar ?? '').split(path.delimiter)) {
      if (await executable(path.resolve(cwd, dir || '.', program))) return;
    }
  }
  throw new TmuxError('invalid_request', `command not found: ${program}`);
}
