import type { Migration } from '@codepiper/sdk';

const COLUMNS = 'id, ts, session_id, tool, input, decision, reason, policy_id, policy_name, rule, source, answered_by, duration_ms';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'the audit trail',
    async up(tx) {
      await tx.exec(
        `CREATE TABLE audit_trail (
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
         CREATE INDEX audit_trail_by_session ON audit_trail (session_id, id);
         CREATE INDEX audit_trail_by_ts ON audit_trail (ts);
         CREATE TRIGGER audit_trail_no_update BEFORE UPDATE ON audit_trail BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
         CREATE TRIGGER audit_trail_no_delete BEFORE DELETE ON audit_trail BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;`,
      );
      // The policies plugin kept the trail before this plugin did; its lines move here with their ids (it then drops its table).
      const kept = await tx.get('SELECT 1 AS found FROM sqlite_master WHERE type = ? AND name = ?', ['table', 'policy_audit']);
      if (kept) await tx.run(`INSERT INTO audit_trail (${COLUMNS}) SELECT ${COLUMNS} FROM policy_audit ORDER BY id`);
    },
  },
];
