import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, IsoTime, Nullable } from '@codepiper/sdk';
import { SessionIdParams } from '@codepiper/sessions-contract';

/** The worktrees contract: a session's own git worktree, reviewed and finished (owned by the worktrees plugin). */
export const WORKTREES_CONTRACT = '1.0.0';

/** Events of a session's worktree, in its event stream. */
export const GIT_EVENTS = {
  /** Its changes since the branch point moved (checked at each end of a turn and at exit); payload `{ files, added, removed }`. */
  changed: 'git.changed',
  /** Merged into its base branch; payload `{ into, commit }`. */
  merged: 'git.merged',
  /** Removed with its branch, its changes dropped; payload `{ branch }`. */
  discarded: 'git.discarded',
} as const;

/** `active`: made, not merged; `merged`: merged (kept while its session is); `removed`: gone with its forgotten session (rm, prune), nothing unmerged in it; `discarded`: removed with its changes. */
export const WORKTREE_STATES = ['active', 'merged', 'removed', 'discarded'] as const;

export const WorktreeSchema = Type.Object({
  sessionId: Type.String(),
  repository: Type.String({ description: 'The repository’s main checkout' }),
  path: Type.String({ description: 'The worktree: where the session runs' }),
  branch: Type.String(),
  base: Type.String({ description: 'The branch it was made from, and is merged into' }),
  baseCommit: Type.String({ description: 'The branch point' }),
  state: Type.Union(WORKTREE_STATES.map((s) => Type.Literal(s))),
  mergedAs: Nullable(Type.String({ description: 'The merge commit on the base branch' })),
  createdAt: IsoTime,
});
export type Worktree = Static<typeof WorktreeSchema>;

/** Whether the worktree's directory is gone (removed or discarded): it changes no more, and nothing can be done with it. */
export const isWorktreeGone = (worktree: Pick<Worktree, 'state'>): boolean => worktree.state === 'discarded' || worktree.state === 'removed';

export const ChangedFileSchema = Type.Object({
  path: Type.String(),
  change: Type.Union(['added', 'modified', 'deleted'].map((c) => Type.Literal(c))),
  /** Lines; null for a binary file. */
  added: Nullable(Type.Integer()),
  removed: Nullable(Type.Integer()),
});
export type ChangedFile = Static<typeof ChangedFileSchema>;

const CommitSchema = Type.Object({ commit: Type.String(), subject: Type.String(), author: Type.String(), date: IsoTime });

/** A worktree's changes against its branch point: committed and not, new files included. */
export const WorktreeChangesSchema = Type.Object({
  worktree: WorktreeSchema,
  files: Type.Array(ChangedFileSchema),
  added: Type.Integer(),
  removed: Type.Integer(),
  /** The branch's commits since the branch point, newest first. */
  commits: Type.Array(CommitSchema),
});
export type WorktreeChanges = Static<typeof WorktreeChangesSchema>;

const Worktrees = Type.Object({ worktrees: Type.Array(WorktreeSchema) });

export const worktreeEndpoints = {
  list: defineEndpoint({ method: 'GET', url: '/worktrees', summary: 'The sessions’ worktrees, newest first', tags: ['worktrees'], response: Worktrees }),
  status: defineEndpoint({
    method: 'GET',
    url: '/sessions/:id/git',
    summary: 'A session’s worktree: its branch, changed files with line counts, and commits',
    tags: ['worktrees'],
    params: SessionIdParams,
    response: WorktreeChangesSchema,
  }),
  diff: defineEndpoint({
    method: 'GET',
    url: '/sessions/:id/diff',
    summary: 'A session’s changes against its branch point, as a unified diff (uncommitted and new files included)',
    tags: ['worktrees'],
    params: SessionIdParams,
    response: Type.Object({ ...WorktreeChangesSchema.properties, patch: Type.String() }),
  }),
  merge: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/merge',
    summary: 'Commits what the session left uncommitted, then merges its branch into the base branch; refuses with the conflicting files, changing nothing',
    tags: ['worktrees'],
    params: SessionIdParams,
    response: Type.Object({ into: Type.String(), commit: Type.String(), worktree: WorktreeSchema }),
  }),
  discard: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/discard',
    summary: 'Removes an ended session’s worktree and branch, dropping its changes',
    tags: ['worktrees'],
    params: SessionIdParams,
    response: Type.Object({ worktree: WorktreeSchema }),
  }),
};
