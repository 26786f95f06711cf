import type { Migration } from '@codepiper/sdk';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'worktrees of sessions',
    async up(tx) {
      await tx.exec(
        `CREATE TABLE worktrees (
           session_id TEXT PRIMARY KEY,
           repository TEXT NOT NULL,
           path TEXT NOT NULL,
           branch TEXT NOT NULL,
           base TEXT NOT NULL,
           base_commit TEXT NOT NULL,
           state TEXT NOT NULL,
           merged_as TEXT,
           created_at TEXT NOT NULL,
           -- The counts last told in a git.changed event, so a restart does not tell them again.
           told_changes TEXT
         );`,
      );
    },
  },
];
