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
  {
    version: 2,
    name: 'copies of files on hosts (transcripts), kept while their session runs',
    up: `CREATE TABLE host_file_copies (
           session_id TEXT NOT NULL,
           host TEXT NOT NULL,
           remote TEXT NOT NULL,
           local TEXT NOT NULL,
           PRIMARY KEY (session_id, remote)
         );`,
  },
];
