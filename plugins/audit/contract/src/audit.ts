import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, IsoTime, Nullable, createServiceRef } from '@codepiper/sdk';
import { PolicyActionSchema } from '@codepiper/policies-contract';

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

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  ts: IsoTime,
  sessionId: Nullable(Type.String()),
  tool: Type.String({ description: 'The tool, or a security action: auth.login, auth.lockout, auth.password, auth.mfa, secrets.set...' }),
  input: Type.Unknown({ description: 'The tool input (terminal_input: {"text"}); for a security action, its details' }),
  decision: PolicyActionSchema,
  reason: Type.String(),
  policyId: Nullable(Type.String()),
  policyName: Type.String({ description: 'The policy that decided, or `default`' }),
  rule: Type.String(),
  source: Type.String({ description: 'What asked: claude-code.PreToolUse, sessions.checkInput...' }),
  answeredBy: Type.String({ description: '`policy`, `default`, or who answered an approval' }),
  durationMs: Type.Number(),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

/** A line to append: an entry before the trail gives it its id and time. */
export type AuditRecord = Omit<AuditEntry, 'id' | 'ts'>;

/** The append-only audit trail: permission decisions and security events. */
export interface AuditLog {
  /** Appends a decision (or anything shaped as one); returns it as stored. */
  append(record: AuditRecord): Promise<AuditEntry>;
  /** Appends a security event, its action as the line's tool and its actor as who answered. */
  record(event: SecurityEvent, source: string): Promise<void>;
}

/** The audit contract: the audit trail service. Its version moves with what it promises: a major version for a change that breaks its users. */
export const AUDIT_CONTRACT = '1.0.0';

export const auditLogRef = createServiceRef<AuditLog>('audit.log', 'The append-only audit trail: permission decisions and security events', AUDIT_CONTRACT);

export const auditEndpoints = {
  list: defineEndpoint({
    method: 'GET',
    url: '/audit',
    summary: 'Recorded decisions and security events (logins, lockouts, password, MFA and secret changes), oldest first (append-only: no endpoint edits or deletes them)',
    tags: ['audit'],
    query: Type.Object({
      session: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Session id or prefix' })),
      since: Type.Optional(IsoTime),
      decision: Type.Optional(PolicyActionSchema),
      tool: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only this tool or security action (`auth.login`), or a prefix (`auth.*`)' })),
      after: Type.Optional(Type.Integer({ minimum: 0, description: 'Only entries with a greater id' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
      newest: Type.Optional(Type.Boolean({ description: 'The newest `limit` entries, newest first' })),
    }),
    response: Type.Object({ entries: Type.Array(AuditEntrySchema) }),
  }),
};

export type AuditQuery = Static<typeof auditEndpoints.list.query>;
