import type { Migration } from '@codepiper/sdk';

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'codex usage and rollout offsets',
    up: `CREATE TABLE codex_usage (
           session_id TEXT PRIMARY KEY,
           input_tokens INTEGER NOT NULL,
           cached_input_tokens INTEGER NOT NULL,
           output_tokens INTEGER NOT NULL,
           reasoning_output_tokens INTEGER NOT NULL,
           total_tokens INTEGER NOT NULL,
           model TEXT,
           updated_at TEXT NOT NULL
         );
         CREATE TABLE codex_rollouts (
           session_id TEXT PRIMARY KEY,
           codex_home TEXT NOT NULL,
           thread_id TEXT,
           path TEXT,
           inode TEXT,
           offset INTEGER NOT NULL DEFAULT 0,
           model TEXT,
           updated_at TEXT NOT NULL
         );`,
  },
  {
    version: 2,
    name: 'usage moves to the analytics ledger; the rollout parser state is kept with the offset',
    up: `DROP TABLE codex_usage;
         ALTER TABLE codex_rollouts ADD COLUMN parser_state TEXT;`,
  },
];
