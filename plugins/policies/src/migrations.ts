import type { Migration } from '@codepiper/sdk';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'policies and the audit trail',
    up: `CREATE TABLE policies (
           id TEXT PRIMARY KEY,
           seq INTEGER NOT NULL,
           name TEXT NOT NULL UNIQUE,
           action TEXT NOT NULL CHECK (action IN ('allow', 'deny', 'ask')),
           tool TEXT NOT NULL,
           args TEXT,
           rule TEXT,
           priority INTEGER NOT NULL DEFAULT 0,
           session_id TEXT,
           enabled INTEGER NOT NULL DEFAULT 1,
           reason TEXT NOT NULL DEFAULT '',
           created_at TEXT NOT NULL,
           updated_at TEXT NOT NULL
         );
         CREATE TABLE policy_audit (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           ts TEXT NOT NULL,
           session_id TEXT,
           tool TEXT NOT NULL,
           input TEXT NOT NULL,
           decision TEXT NOT NULL,
           reason TEXT NOT NULL,
           policy_id TEXT,
           policy_name TEXT NOT NULL,
           rule TEXT NOT NULL,
           source TEXT NOT NULL,
           answered_by TEXT NOT NULL,
           duration_ms REAL NOT NULL
         );
         CREATE INDEX policy_audit_by_session ON policy_audit (session_id, id);
         CREATE INDEX policy_audit_by_ts ON policy_audit (ts);
         CREATE TRIGGER policy_audit_no_update BEFORE UPDATE ON policy_audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
         CREATE TRIGGER policy_audit_no_delete BEFORE DELETE ON policy_audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;`,
  },
  {
    version: 2,
    name: 'remote approvals',
    up: `CREATE TABLE policy_approvals (
           id TEXT PRIMARY KEY,
           session_id TEXT NOT NULL,
           tool TEXT NOT NULL,
           input TEXT NOT NULL,
           reason TEXT NOT NULL,
           policy_id TEXT,
           policy_name TEXT NOT NULL,
           status TEXT NOT NULL,
           created_at TEXT NOT NULL,
           expires_at TEXT NOT NULL,
           answered_at TEXT,
           answered_by TEXT,
           answer TEXT,
           remembered_policy_id TEXT
         );
         CREATE INDEX policy_approvals_by_status ON policy_approvals (status, created_at);`,
  },
  {
    version: 3,
    name: 'built-in policies',
    // The rows themselves are created by the plugin when it starts (PolicyService.load), so a missing one comes back.
    up: `ALTER TABLE policies ADD COLUMN builtin TEXT;
         UPDATE policies SET name = name || '-user' WHERE name LIKE 'builtin:%';`,
  },
  {
    version: 4,
    name: 'approvals pending as long as the agent waits',
    up: 'ALTER TABLE policy_approvals DROP COLUMN expires_at;',
  },
  {
    version: 5,
    name: 'the audit trail moved to the audit plugin',
    // The audit plugin's first migration (run before this one) copied the lines. Dropping a table runs no delete trigger.
    up: 'DROP TABLE policy_audit;',
  },
  {
    version: 6,
    name: 'the default action and sessions without policies',
    up: `CREATE TABLE policy_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE policy_bypasses (session_id TEXT PRIMARY KEY, since TEXT NOT NULL, by TEXT NOT NULL);`,
  },
  {
    version: 7,
    name: 'policy sets',
    up: `ALTER TABLE policies ADD COLUMN set_name TEXT;
         CREATE TABLE policy_session_sets (session_id TEXT NOT NULL, set_name TEXT NOT NULL, PRIMARY KEY (session_id, set_name));`,
  },
];
