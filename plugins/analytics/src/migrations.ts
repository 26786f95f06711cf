import type { Migration } from '@codepiper/sdk';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'usage ledger, tool calls, session map and import offsets',
    up: `CREATE TABLE analytics_usage (
           provider TEXT NOT NULL,
           key TEXT NOT NULL,
           agent_session TEXT NOT NULL,
           project TEXT,
           model TEXT,
           ts TEXT,
           input INTEGER NOT NULL,
           output INTEGER NOT NULL,
           cache_write_5m INTEGER NOT NULL,
           cache_write_1h INTEGER NOT NULL,
           cache_read INTEGER NOT NULL,
           reasoning INTEGER NOT NULL,
           PRIMARY KEY (provider, key)
         ) WITHOUT ROWID;
         CREATE INDEX analytics_usage_by_session ON analytics_usage (agent_session);
         CREATE TABLE analytics_tool_calls (
           provider TEXT NOT NULL,
           key TEXT NOT NULL,
           agent_session TEXT NOT NULL,
           project TEXT,
           model TEXT,
           ts TEXT,
           tool TEXT NOT NULL,
           PRIMARY KEY (provider, key)
         ) WITHOUT ROWID;
         CREATE TABLE analytics_sessions (
           provider TEXT NOT NULL,
           agent_session TEXT NOT NULL,
           session TEXT NOT NULL,
           PRIMARY KEY (provider, agent_session)
         ) WITHOUT ROWID;
         CREATE TABLE analytics_import_files (
           path TEXT PRIMARY KEY,
           provider TEXT NOT NULL,
           inode TEXT NOT NULL,
           offset INTEGER NOT NULL,
           state TEXT
         );`,
  },
];
