import type { Migration } from '@codepiper/sdk';

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'sessions table',
    up: `CREATE TABLE sessions (
           id TEXT PRIMARY KEY,
           name TEXT NOT NULL,
           provider TEXT NOT NULL,
           cwd TEXT NOT NULL,
           command TEXT NOT NULL,
           status TEXT NOT NULL,
           status_detail TEXT,
           exit_code INTEGER,
           created_at TEXT NOT NULL,
           updated_at TEXT NOT NULL,
           ended_at TEXT,
           tmux_session TEXT NOT NULL,
           tmux_pane TEXT,
           metadata TEXT NOT NULL DEFAULT '{}',
           last_screen TEXT
         );
         CREATE INDEX sessions_by_status ON sessions (status);
         CREATE INDEX sessions_by_name ON sessions (name);`,
  },
  {
    version: 2,
    name: 'session names are unique',
    // Names are how people refer to sessions; older homes may hold duplicates: all but the newest get their id's prefix.
    up: `UPDATE sessions SET name = name || '-' || substr(id, 1, 8)
           WHERE rowid NOT IN (SELECT max(rowid) FROM sessions GROUP BY name);
         DROP INDEX sessions_by_name;
         CREATE UNIQUE INDEX sessions_by_name ON sessions (name);`,
  },
];
