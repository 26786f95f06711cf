import { randomUUID } from 'node:crypto';
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ChangedFile } from '@codepiper/worktrees-contract';
import { git } from './git.js';

export interface Changes {
  files: ChangedFile[];
  added: number;
  removed: number;
}

/**
 * Runs `use` with an environment whose index holds everything in the
 * worktree at `dir`, new files included, without touching its own index (the
 * agent's `git status` stays as it left it): a copy, brought up to date with
 * `add -A`.
 */
async function withWholeTree<T>(dir: string, use: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const index = path.resolve(dir, (await git(dir, ['rev-parse', '--git-path', 'index'])).trim());
  const copy = `${index}.codepiper-${randomUUID()}`;
  await copyFile(index, copy).catch(() => undefined);
  const env = { GIT_INDEX_FILE: copy };
  try {
    await git(dir, ['add', '-A'], { env });
    return await use(env);
  } finally {
    await rm(copy, { force: true });
  }
}

/** The tree of everything in the worktree at `dir` now, new files included, written to its object store; its index and branch untouched. */
export function treeOf(dir: string): Promise<string> {
  return withWholeTree(dir, async (env) => (await git(dir, ['write-tree'], { env })).trim());
}

const CHANGE: Record<string, ChangedFile['change']> = { A: 'added', M: 'modified', D: 'deleted', T: 'modified' };

/**
 * The files changed in the worktree at `dir` since commit `base`, with their
 * line counts (null for binary files), and with `patch` the unified diff.
 */
export function changesSince(dir: string, base: string, patch = false): Promise<Changes & { patch: string }> {
  const diff = (env: Record<string, string>, ...args: string[]) => git(dir, ['diff', '--cached', '--no-renames', ...args, base], { env });
  return withWholeTree(dir, async (env) => {
    const [names, numbers, text] = await Promise.all([diff(env, '--name-status', '-z'), diff(env, '--numstat', '-z'), patch ? diff(env, '--no-color', '--no-ext-diff') : '']);
    return { ...parseChanges(names, numbers), patch: text };
  });
}

/** `--name-status -z` (`M\0path\0`...) and `--numstat -z` (`3\t1\tpath\0`, `-\t-\tpath\0` for binary) joined by path. */
function parseChanges(names: string, numbers: string): Changes {
  const counts = new Map<string, [number | null, number | null]>();
  for (const entry of numbers.split('\0').filter(Boolean)) {
    const [added, removed, ...file] = entry.split('\t');
    counts.set(file.join('\t'), [added === '-' ? null : Number(added), removed === '-' ? null : Number(removed)]);
  }
  const parts = names.split('\0');
  const files: ChangedFile[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const file = parts[i + 1]!;
    const [added, removed] = counts.get(file) ?? [null, null];
    files.push({ path: file, change: CHANGE[parts[i]!.charAt(0)] ?? 'modified', added, removed });
  }
  return { files, added: files.reduce((sum, f) => sum + (f.added ?? 0), 0), removed: files.reduce((sum, f) => sum + (f.removed ?? 0), 0) };
}
