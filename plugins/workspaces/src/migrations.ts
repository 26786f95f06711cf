import type { Migration } from '@codepiper/sdk';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'workspaces and env sets',
    up: `CREATE TABLE env_sets (
           name TEXT PRIMARY KEY,
           env TEXT NOT NULL,
           secrets TEXT NOT NULL,
           created_at TEXT NOT NULL,
           updated_at TEXT NOT NULL
         );
         CREATE TABLE workspaces (
           name TEXT PRIMARY KEY,
           dir TEXT NOT NULL,
           provider TEXT,
           env_set TEXT REFERENCES env_sets (name),
           policy_set TEXT,
           worktree INTEGER NOT NULL,
           created_at TEXT NOT NULL,
           updated_at TEXT NOT NULL
         );`,
  },
];
