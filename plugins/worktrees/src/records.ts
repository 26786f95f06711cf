import type { Store } from '@codepiper/sdk';
import type { Worktree } from '@codepiper/worktrees-contract';

interface Row {
  session_id: string;
  repository: string;
  path: string;
  branch: string;
  base: string;
  base_commit: string;
  state: Worktree['state'];
  merged_as: string | null;
  created_at: string;
  told_changes: string | null;
}

const toWorktree = (row: Row): Worktree => ({
  sessionId: row.session_id,
  repository: row.repository,
  path: row.path,
  branch: row.branch,
  base: row.base,
  baseCommit: row.base_commit,
  state: row.state,
  mergedAs: row.merged_as,
  createdAt: row.created_at,
});

/** The worktrees table: one row per session that asked for one. */
export class WorktreeRecords {
  constructor(private readonly store: Store) {}

  async insert(worktree: Worktree): Promise<void> {
    await this.store.run(
      'INSERT INTO worktrees (session_id, repository, path, branch, base, base_commit, state, merged_as, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [worktree.sessionId, worktree.repository, worktree.path, worktree.branch, worktree.base, worktree.baseCommit, worktree.state, worktree.mergedAs, worktree.createdAt],
    );
  }

  async get(sessionId: string): Promise<Worktree | undefined> {
    const row = await this.store.get<Row>('SELECT * FROM worktrees WHERE session_id = ?', [sessionId]);
    return row && toWorktree(row);
  }

  async delete(sessionId: string): Promise<void> {
    await this.store.run('DELETE FROM worktrees WHERE session_id = ?', [sessionId]);
  }

  async list(): Promise<Worktree[]> {
    return (await this.store.all<Row>('SELECT * FROM worktrees ORDER BY created_at DESC')).map(toWorktree);
  }

  async setState(sessionId: string, state: Worktree['state'], mergedAs?: string): Promise<Worktree> {
    await this.store.run('UPDATE worktrees SET state = ?, merged_as = COALESCE(?, merged_as) WHERE session_id = ?', [state, mergedAs ?? null, sessionId]);
    return (await this.get(sessionId))!;
  }

  /** Records the counts told in a `git.changed` event; false if they are the ones told last. */
  async tell(sessionId: string, counts: string): Promise<boolean> {
    const result = await this.store.run('UPDATE worktrees SET told_changes = ? WHERE session_id = ? AND told_changes IS NOT ?', [counts, sessionId, counts]);
    return result.changes > 0;
  }
}
