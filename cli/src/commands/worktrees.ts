import type { CAC } from 'cac';
import { ApiError, type ApiClient } from '@codepiper/sdk';
import { worktreeEndpoints, type ChangedFile, type Worktree, type WorktreeChanges } from '@codepiper/worktrees-contract';
import { connect } from '../client.js';
import { forSession } from '../errors.js';
import { formatAge, formatTable, shortId } from '../format.js';
import { printResult } from '../output.js';

interface JsonOption {
  json?: boolean;
}

const counts = (file: Pick<ChangedFile, 'added' | 'removed'>): string => (file.added === null ? 'binary' : `+${file.added} -${file.removed ?? 0}`);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "3 files changed, +10 -2, 1 commit": a worktree's changes in one line. */
export const changesLine = (c: WorktreeChanges): string =>
  c.files.length === 0 && c.commits.length === 0 ? 'no changes' : `${plural(c.files.length, 'file')} changed, +${c.added} -${c.removed}, ${plural(c.commits.length, 'commit')}`;

/** The fields `show` adds for a session in a worktree. */
export const worktreeFields = (c: WorktreeChanges): [string, string][] => [
  ['worktree', `${c.worktree.path} (${c.worktree.state})`],
  ['branch', `${c.worktree.branch}, from ${c.worktree.base} at ${c.worktree.baseCommit.slice(0, 10)}`],
  ['changes', changesLine(c)],
];

/** A session's worktree changes, or undefined when it runs in no worktree (or the daemon has no worktrees plugin). */
export async function worktreeChanges(client: ApiClient, id: string): Promise<WorktreeChanges | undefined> {
  return client.call(worktreeEndpoints.status, { params: { id } }).catch((error: unknown) => {
    if (error instanceof ApiError && (error.code === 'no_worktree' || error.code === 'not_found')) return undefined;
    throw error;
  });
}

const stat = (c: WorktreeChanges): string =>
  c.files.length === 0 ? 'no changes' : `${formatTable(['FILE', 'CHANGE', 'LINES'], c.files.map((f) => [f.path, f.change, counts(f)]))}\n${changesLine(c)}`;

const worktreeRow = (w: Worktree, now: number): string[] => [shortId(w.sessionId), w.branch, w.base, w.state, formatAge(w.createdAt, now), w.path];

export function registerWorktreeCommands(cli: CAC): void {
  cli
    .command('diff <id>', 'What a session changed in its worktree since its branch point, uncommitted and new files included')
    .option('--stat', 'Only the changed files with their line counts')
    .option('--json', 'Print the API response as JSON (with the patch)')
    .example('  $ codepiper diff ab12')
    .example('  $ codepiper diff ab12 --stat')
    .action(async (id: string, options: JsonOption & { stat?: boolean }) => {
      const diff = await forSession(id, connect().call(worktreeEndpoints.diff, { params: { id } }));
      printResult(diff, options.json, (d) => (options.stat || d.patch === '' ? stat(d) : d.patch.trimEnd()));
    });

  cli
    .command('merge <id>', 'Merge a session’s worktree into the branch it was made from (what it left uncommitted is committed first)')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper merge ab12')
    .action(async (id: string, options: JsonOption) => {
      const merged = await forSession(id, connect().call(worktreeEndpoints.merge, { params: { id } }));
      printResult(merged, options.json, (m) => `merged ${m.worktree.branch} into ${m.into} (${m.commit.slice(0, 10)})`);
    });

  cli
    .command('discard <id>', 'Remove an ended session’s worktree and branch, dropping its changes')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper discard ab12')
    .action(async (id: string, options: JsonOption) => {
      const { worktree } = await forSession(id, connect().call(worktreeEndpoints.discard, { params: { id } }));
      printResult({ worktree }, options.json, () => `discarded ${worktree.branch} and its worktree ${worktree.path}`);
    });

  cli
    .command('worktrees', 'List the sessions’ worktrees, newest first')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper worktrees')
    .action(async (options: JsonOption) => {
      const result = await connect().call(worktreeEndpoints.list);
      const now = Date.now();
      printResult(result, options.json, ({ worktrees }) =>
        worktrees.length === 0 ? 'no worktrees' : formatTable(['SESSION', 'BRANCH', 'BASE', 'STATE', 'AGE', 'PATH'], worktrees.map((w) => worktreeRow(w, now))),
      );
    });
}
