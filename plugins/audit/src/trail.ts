import { likePrefix, type SqlValue, type Store } from '@codepiper/sdk';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord, SecurityEvent } from '@codepiper/audit-contract';

interface AuditRow {
  id: number;
  ts: string;
  session_id: string | null;
  tool: string;
  input: string;
  decision: AuditEntry['decision'];
  reason: string;
  policy_id: string | null;
  policy_name: string;
  rule: string;
  source: string;
  answered_by: string;
  duration_ms: number;
}

const toEntry = (row: AuditRow): AuditEntry => ({
  id: row.id,
  ts: row.ts,
  sessionId: row.session_id,
  tool: row.tool,
  input: JSON.parse(row.input) as unknown,
  decision: row.decision,
  reason: row.reason,
  policyId: row.policy_id,
  policyName: row.policy_name,
  rule: row.rule,
  source: row.source,
  answeredBy: row.answered_by,
  durationMs: row.duration_ms,
});

/** The audit trail in SQLite; its table refuses updates and deletes (triggers). */
export class AuditTrail implements AuditLog {
  constructor(private readonly store: Store) {}

  async append(record: AuditRecord): Promise<AuditEntry> {
    const row: Omit<AuditRow, 'id'> = {
      ts: new Date().toISOString(),
      session_id: record.sessionId,
      tool: record.tool,
      input: JSON.stringify(record.input ?? null),
      decision: record.decision,
      reason: record.reason,
      policy_id: record.policyId,
      policy_name: record.policyName,
      rule: record.rule,
      source: record.source,
      answered_by: record.answeredBy,
      duration_ms: record.durationMs,
    };
    const result = await this.store.run(
      `INSERT INTO audit_trail (ts, session_id, tool, input, decision, reason, policy_id, policy_name, rule, source, answered_by, duration_ms)
       VALUES ($ts, $session_id, $tool, $input, $decision, $reason, $policy_id, $policy_name, $rule, $source, $answered_by, $duration_ms)`,
      Object.fromEntries(Object.entries(row).map(([k, v]) => [`$${k}`, v])) as Record<string, SqlValue>,
    );
    return toEntry({ id: result.lastID, ...row });
  }

  async record(event: SecurityEvent, source: string): Promise<void> {
    await this.append({
      sessionId: null,
      tool: event.action,
      input: event.details ?? {},
      decision: event.outcome,
      reason: event.reason,
      policyId: null,
      policyName: '-',
      rule: '-',
      source,
      answeredBy: event.actor,
      durationMs: 0,
    });
  }

  async query(query: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (query.tool) {
      const prefix = query.tool.endsWith('.*') ? query.tool.slice(0, -1) : undefined;
      where.push(prefix === undefined ? 'tool = ?' : "tool LIKE ? ESCAPE '\\'");
      params.push(prefix === undefined ? query.tool : likePrefix(prefix));
    }
    if (query.session) {
      where.push("session_id LIKE ? ESCAPE '\\'");
      params.push(likePrefix(query.session));
    }
    if (query.since) {
      where.push('ts >= ?');
      params.push(new Date(query.since).toISOString());
    }
    if (query.decision) {
      where.push('decision = ?');
      params.push(query.decision);
    }
    if (query.after !== undefined) {
      where.push('id > ?');
      params.push(query.after);
    }
    params.push(query.limit ?? 1000);
    const rows = await this.store.all<AuditRow>(`SELECT * FROM audit_trail ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${query.newest ? 'DESC' : 'ASC'} LIMIT ?`, params);
    return rows.map(toEntry);
  }
}
