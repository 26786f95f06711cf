import type { Migration } from '@codepiper/sdk';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'hosts',
    up: `CREATE TABLE hosts (
           name TEXT PRIMARY KEY,
           destination TEXT NOT NULL,
           port INTEGER,
           identity TEXT,
           created_at TEXT NOT NULL
         );`,
  },
];
