import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CodePiperError, KeyedLock } from '@codepiper/sdk';
import { GIT_EVENTS, isWorktreeGone, type Worktree, type WorktreeChanges } from '@codepiper/worktrees-contract';
import { isFinished, type SessionDirectory, type SessionRecord, type WorktreeRequest } from '@codepiper/sessions-contract';
import type { EventLog } from '@codepiper/events-contract';
import { changesSince, treeOf } from './changes.js';
import { git, runGit } from './git.js';
import type { WorktreeRecords } from './records.js';

export interface WorktreeDeps {
  records: WorktreeRecords;
  /** Where the worktrees are made: the plugin's own directory. */
  dir: string;
  sessions: () => SessionDirectory;
  events: () => EventLog;
}

/** A branch name from a session's name: lowercase letters, digits, `.`, `_` and `-`. */
function branchFor(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/\.{2,}/g, '.').replace(/^[-.]+|[-.]+$/g, '').replace(/\.lock$/, '');
  return `codepiper/${slug || 'session'}`;
}

function assertNotGone(worktree: Worktree, session: SessionRecord): void {
  if (isWorktreeGone(worktree)) throw new CodePiperError('worktree_finished', `the worktree of ${session.name} was ${worktree.state}`);
}

/** Identity for the commit that saves what an agent left uncommitted, when the user has none configured. */
const FALLBACK_IDENTITY = ['-c', 'user.name=CodePiper', '-c', 'user.email=codepiper@localhost'];

/**
 * Sessions' own git worktrees: made at start on a new branch, compared with
 * their branch point, merged into the base branch or discarded. The user's
 * git does the work; changes to one repository are made one at a time.
 */
export class Worktrees {
  private readonly repositories = new KeyedLock();

  constructor(private readonly deps: WorktreeDeps) {}

  /** Makes the worktree of a session being started; resolves with the directory it runs in. */
  async create(request: WorktreeRequest): Promise<{ cwd: string }> {
    const top = await this.repositoryOf(request.cwd);
    return this.repositories.run(top, async () => {
      const base = (await runGit(top, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim();
      if (!base) throw new CodePiperError('not_a_repository', `${top} is on a detached HEAD: check out the branch the session's work should go to`);
      const baseCommit = (await runGit(top, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])).stdout.trim();
      if (!baseCommit) throw new CodePiperError('not_a_repository', `${top} has no commit yet: a worktree starts from one`);
      const branch = await this.freeBranch(top, request);
      const dir = path.join(this.deps.dir, `${path.basename(top)}-${request.sessionId.slice(0, 8)}`);
      await mkdir(this.deps.dir, { recursive: true, mode: 0o700 });
      await git(top, ['worktree', 'add', '--quiet', '-b', branch, dir, baseCommit]);
      await this.deps.records.insert({ sessionId: request.sessionId, repository: top, path: dir, branch, base, baseCommit, state: 'active', mergedAs: null, createdAt: new Date().toISOString() });
      // Started in a folder of the repository: the same folder of the worktree.
      return { cwd: path.join(dir, path.relative(top, request.cwd)) };
    });
  }

  list(): Promise<Worktree[]> {
    return this.deps.records.list();
  }

  async changes(ref: string, patch = false): Promise<WorktreeChanges & { patch: string }> {
    const { worktree: found } = await this.resolve(ref);
    return this.holding(found, async (worktree) => {
      if (isWorktreeGone(worktree)) return { worktree, files: [], added: 0, removed: 0, commits: [], patch: '' };
      const [changes, commits] = await Promise.all([changesSince(worktree.path, worktree.baseCommit, patch), this.commits(worktree)]);
      return { worktree, ...changes, commits };
    });
  }

  /**
   * Merges the session's work, what it left uncommitted included, into the
   * base branch. Decided before anything moves: a conflict, or a checkout of
   * the base with changes of its own, changes nothing.
   */
  async merge(ref: string): Promise<{ into: string; commit: string; worktree: Worktree }> {
    const { session, worktree: found } = await this.resolve(ref);
    return this.holding(found, async (worktree) => {
      assertNotGone(worktree, session);
      const checkout = await this.checkoutOf(worktree);
      const identity = await this.identity(worktree.repository);
      const work = await this.workCommit(worktree, session, identity);
      const merged = await runGit(worktree.repository, ['merge-tree', '--write-tree', '--name-only', '--no-messages', worktree.base, work.commit]);
      const [tree, ...conflicts] = merged.stdout.split('\n').filter(Boolean);
      if (merged.code === 1) {
        throw new CodePiperError('merge_conflict', `${worktree.branch} does not merge cleanly into ${worktree.base}: ${conflicts.join(', ')} changed on both sides; nothing was changed`, { conflicts });
      }
      if (merged.code !== 0 || !tree) throw new CodePiperError('git_failed', `git merge-tree failed: ${merged.stderr.trim()}`);
      // The leftovers' commit becomes the branch's, and the worktree's index follows (its files already match).
      if (work.leftovers) {
        await git(worktree.path, ['update-ref', `refs/heads/${worktree.branch}`, work.commit, work.head]);
        await git(worktree.path, ['reset', '--quiet']);
      }
      const message = `Merge the work of session ${session.name} (${worktree.branch})`;
      const commit = (await git(worktree.repository, [...identity, 'commit-tree', tree, '-p', worktree.base, '-p', work.commit, '-m', message])).trim();
      // The base moves by a fast-forward: where it is checked out, its files follow.
      if (checkout) await git(checkout, ['merge', '--ff-only', '--quiet', commit]);
      else await git(worktree.repository, ['update-ref', `refs/heads/${worktree.base}`, commit]);
      const updated = await this.deps.records.setState(worktree.sessionId, 'merged', commit);
      await this.tell(worktree.sessionId, GIT_EVENTS.merged, { into: worktree.base, commit });
      return { into: worktree.base, commit, worktree: updated };
    });
  }

  /** Removes an ended session's worktree and branch, with whatever they held. */
  async discard(ref: string): Promise<{ worktree: Worktree }> {
    const { session, worktree: found } = await this.resolve(ref);
    if (!isFinished(session.status)) throw new CodePiperError('session_running', `${session.name} is still ${session.status}: stop it before its worktree is discarded`);
    return this.holding(found, async (worktree) => {
      assertNotGone(worktree, session);
      await this.remove(worktree);
      const updated = await this.deps.records.setState(worktree.sessionId, 'discarded');
      await this.tell(worktree.sessionId, GIT_EVENTS.discarded, { branch: worktree.branch });
      return { worktree: updated };
    });
  }

  /** Why a finished session must not be forgotten: its worktree holds work not merged; undefined when it may go. */
  async keepReason(sessionId: string): Promise<string | undefined> {
    const found = await this.present(sessionId);
    if (!found) return undefined;
    const unmerged = await this.holding(found, async (worktree) => (isWorktreeGone(worktree) ? undefined : this.unmergedWork(worktree)));
    return unmerged && `its worktree ${found.path} ${unmerged}: merge it (codepiper merge ${sessionId.slice(0, 8)}) or discard it (codepiper discard ${sessionId.slice(0, 8)}) first`;
  }

  /** A session was forgotten (nothing unmerged in its worktree, see `keepReason`): its worktree and branch go too. */
  async forgotten(sessionId: string): Promise<void> {
    const found = await this.present(sessionId);
    if (!found) return;
    await this.holding(found, async (worktree) => {
      if (isWorktreeGone(worktree)) return;
      await this.remove(worktree);
      await this.deps.records.setState(sessionId, 'removed');
    });
  }

  /** A session that never started (`sessionAbandoned`): the worktree made for it goes, with its branch and record. */
  async abandoned(sessionId: string): Promise<void> {
    const found = await this.present(sessionId);
    if (!found) return;
    await this.holding(found, async (worktree) => {
      if (isWorktreeGone(worktree)) return;
      await this.remove(worktree);
      await this.deps.records.delete(sessionId);
    });
  }

  /**
   * At start: worktrees whose session has no record (the daemon stopped
   * between making one and launching its program) are removed, unless they
   * hold work, which is never deleted unasked. Returns what it found.
   */
  async sweep(): Promise<{ removed: Worktree[]; kept: Worktree[] }> {
    const present = (await this.list()).filter((worktree) => !isWorktreeGone(worktree));
    const removed: Worktree[] = [];
    const kept: Worktree[] = [];
    // A home without worktrees (most) starts without reading every session.
    if (present.length === 0) return { removed, kept };
    const known = new Set((await this.deps.sessions().list()).map((session) => session.id));
    const orphans = present.filter((worktree) => !known.has(worktree.sessionId));
    for (const worktree of orphans) {
      // One that cannot be read (its directory deleted by hand) is left to its owner, like one with work.
      if (await this.unmergedWork(worktree).catch(() => 'unreadable')) kept.push(worktree);
      else {
        await this.abandoned(worktree.sessionId);
        removed.push(worktree);
      }
    }
    return { removed, kept };
  }

  /** After a turn or at exit: `git.changed` when the worktree's counts differ from the ones told last. */
  async noticeChanges(sessionId: string): Promise<void> {
    const found = await this.present(sessionId);
    if (!found) return;
    await this.holding(found, async (worktree) => {
      if (isWorktreeGone(worktree)) return;
      const { files, added, removed } = await changesSince(worktree.path, worktree.baseCommit);
      const counts = { files: files.length, added, removed };
      if (await this.deps.records.tell(sessionId, JSON.stringify(counts))) await this.tell(sessionId, GIT_EVENTS.changed, counts);
    });
  }

  /* ----- Helpers ----- */

  /**
   * Runs `use` while nothing else works in the worktree's repository, with
   * the worktree's record as it is then: a merge or discard finished while
   * this waited shows, and no read meets a directory being removed.
   */
  private holding<T>(found: Worktree, use: (worktree: Worktree) => Promise<T>): Promise<T> {
    return this.repositories.run(found.repository, async () => use((await this.deps.records.get(found.sessionId)) ?? { ...found, state: 'removed' }));
  }

  /** A session's worktree while its directory and branch are there; undefined for a session without one, or whose worktree is gone. */
  private async present(sessionId: string): Promise<Worktree | undefined> {
    const worktree = await this.deps.records.get(sessionId);
    return worktree && !isWorktreeGone(worktree) ? worktree : undefined;
  }

  private async resolve(ref: string): Promise<{ session: SessionRecord; worktree: Worktree }> {
    const session = await this.deps.sessions().resolve(ref);
    const worktree = await this.deps.records.get(session.id);
    if (!worktree) throw new CodePiperError('no_worktree', `${session.name} does not run in a worktree of its own (start it with --worktree)`);
    return { session, worktree };
  }

  /** The top of the checkout `dir` is in. */
  private async repositoryOf(dir: string): Promise<string> {
    const top = await runGit(dir, ['rev-parse', '--show-toplevel']);
    if (top.code !== 0) throw new CodePiperError('not_a_repository', `${dir} is not in a git repository: a worktree is made from one (git init, and a first commit)`);
    return top.stdout.trim();
  }

  /** The branch asked for, refused if it exists; or one from the session's name, made unique with the session's id. */
  private async freeBranch(top: string, request: WorktreeRequest): Promise<string> {
    const exists = async (branch: string) => (await runGit(top, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`])).code === 0;
    if (request.branch !== null) {
      if (await exists(request.branch)) throw new CodePiperError('branch_exists', `branch ${request.branch} exists in ${top}: name another, or leave it to the session's name`);
      if ((await runGit(top, ['check-ref-format', '--branch', request.branch])).code !== 0) throw new CodePiperError('invalid_request', `"${request.branch}" is not a valid branch name`);
      return request.branch;
    }
    const branch = branchFor(request.name);
    return (await exists(branch)) ? `${branch}-${request.sessionId.slice(0, 8)}` : branch;
  }

  private async commits(worktree: Worktree): Promise<WorktreeChanges['commits']> {
    const log = await git(worktree.repository, ['log', '--format=%H%x1f%s%x1f%an%x1f%aI%x1e', `${worktree.baseCommit}..${worktree.branch}`]);
    return log
      .split('\x1e')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        const [commit = '', subject = '', author = '', date = ''] = entry.split('\x1f');
        return { commit, subject, author, date: new Date(date).toISOString() };
      });
  }

  /**
   * The commit to merge: the branch's head, or, when the agent left changes
   * uncommitted (new files too), a commit of them on top of it, made without
   * moving the branch (`leftovers`).
   */
  private async workCommit(worktree: Worktree, session: SessionRecord, identity: readonly string[]): Promise<{ commit: string; head: string; leftovers: boolean }> {
    const head = (await git(worktree.path, ['rev-parse', 'HEAD'])).trim();
    const [tree, headTree] = await Promise.all([treeOf(worktree.path), git(worktree.path, ['rev-parse', 'HEAD^{tree}']).then((t) => t.trim())]);
    if (tree === headTree) return { commit: head, head, leftovers: false };
    const message = `Work of session ${session.name}, left uncommitted`;
    const commit = (await git(worktree.path, [...identity, 'commit-tree', tree, '-p', head, '-m', message])).trim();
    return { commit, head, leftovers: true };
  }

  /** The git options that give a commit an author: none when the user has one configured (a worktree shares its repository's configuration). */
  private async identity(dir: string): Promise<string[]> {
    const configured = (await runGit(dir, ['config', 'user.email'])).stdout.trim();
    return configured ? [] : FALLBACK_IDENTITY;
  }

  /** The checkout where the base branch is, if any; refused when it has uncommitted changes to tracked files. */
  private async checkoutOf(worktree: Worktree): Promise<string | undefined> {
    const listing = await git(worktree.repository, ['worktree', 'list', '--porcelain']);
    const entry = listing.split('\n\n').find((block) => block.split('\n').includes(`branch refs/heads/${worktree.base}`));
    const checkout = entry?.split('\n').find((line) => line.startsWith('worktree '))?.slice('worktree '.length);
    if (checkout && (await git(checkout, ['status', '--porcelain', '--untracked-files=no'])).trim() !== '') {
      throw new CodePiperError('base_not_clean', `${checkout}, where ${worktree.base} is checked out, has uncommitted changes: commit or stash them, then merge again`);
    }
    return checkout;
  }

  /** Why a worktree must be kept: changes or commits not on its base branch; undefined when there are none. */
  private async unmergedWork(worktree: Worktree): Promise<string | undefined> {
    if ((await git(worktree.path, ['status', '--porcelain'])).trim() !== '') return 'has uncommitted changes';
    const merged = await runGit(worktree.repository, ['merge-base', '--is-ancestor', worktree.branch, worktree.base]);
    return merged.code === 0 ? undefined : `${worktree.branch} has commits not merged into ${worktree.base}`;
  }

  private async remove(worktree: Worktree): Promise<void> {
    await git(worktree.repository, ['worktree', 'remove', '--force', worktree.path]);
    await git(worktree.repository, ['branch', '-D', '--quiet', worktree.branch]);
  }

  private async tell(sessionId: string, type: string, payload: unknown): Promise<void> {
    await this.deps.events().append({ sessionId, type, payload }, 'worktrees');
  }
}
