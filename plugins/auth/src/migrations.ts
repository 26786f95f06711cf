import type { Migration } from '@codepiper/sdk';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'account and web sessions',
    up: `CREATE TABLE auth_account (
           id INTEGER PRIMARY KEY CHECK (id = 1),
           password_hash TEXT,
           password_kind TEXT CHECK (password_kind IN ('bootstrap', 'permanent')),
           mfa_enrolled INTEGER NOT NULL DEFAULT 0,
           last_totp_step INTEGER,
           failed_count INTEGER NOT NULL DEFAULT 0,
           locked_until TEXT,
           updated_at TEXT NOT NULL
         );
         INSERT INTO auth_account (id, updated_at) VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
         CREATE TABLE auth_sessions (
           id TEXT PRIMARY KEY,
           token_hash TEXT NOT NULL UNIQUE,
           stage TEXT NOT NULL CHECK (stage IN ('setup', 'full')),
           created_at TEXT NOT NULL,
           last_seen_at TEXT NOT NULL,
           expires_at TEXT NOT NULL,
           address TEXT NOT NULL,
           user_agent TEXT NOT NULL
         );`,
  },
  {
    version: 2,
    name: 'failures by address, sessions bound to their site',
    // Sessions from before have no site: they no longer work, their users sign in again.
    up: `ALTER TABLE auth_account DROP COLUMN failed_count;
         CREATE TABLE auth_failures (
           address_key TEXT PRIMARY KEY,
           count INTEGER NOT NULL CHECK (count > 0)
         );
         ALTER TABLE auth_sessions ADD COLUMN site TEXT;`,
  },
  {
    version: 3,
    name: 'personal access tokens',
    up: `CREATE TABLE auth_tokens (
           id TEXT PRIMARY KEY,
           name TEXT NOT NULL,
           token_hash TEXT NOT NULL UNIQUE,
           scope TEXT NOT NULL CHECK (scope IN ('read', 'full')),
           created_at TEXT NOT NULL,
           expires_at TEXT,
           last_used_at TEXT
         );`,
  },
];
