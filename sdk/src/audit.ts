import { createServiceRef } from './services.js';

/** Something worth a line in the audit trail besides permission decisions: a login, a lockout, a changed password or secret. */
export interface SecurityEvent {
  /** What happened, dotted: `auth.login`, `auth.lockout`, `secrets.set`. */
  action: string;
  /** Whether it succeeded (`allow`) or was refused (`deny`). */
  outcome: 'allow' | 'deny';
  /** In words, for the reader of `codepiper audit`; never a secret. */
  reason: string;
  /** Who: `unix:local`, `tcp:ADDRESS`. */
  actor: string;
  /** Facts that help an investigation (a session id prefix, an address); never a secret. */
  details?: Record<string, unknown>;
}

/** The append-only audit trail, shared with permission decisions. */
export interface AuditLog {
  record(event: SecurityEvent, source: string): Promise<void>;
}

export const auditLogRef = createServiceRef<AuditLog>('audit.log', 'Append security events to the append-only audit trail (with the policy decisions)');
