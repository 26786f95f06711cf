import type { Queryable, SqlValue, Store } from '@codepiper/sdk';
import type { ToolCallRecord, UsageBatch, UsageLedger, UsageRecord } from '@codepiper/analytics-contract';

/** Rows per INSERT: few statements for a large import, well under SQLite's limit of bound variables. */
const ROWS_PER_STATEMENT = 500;

const isoTime = (ts: string | null): string | null => {
  if (ts === null) return null;
  const time = Date.parse(ts);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
};

const usageValues = (u: UsageRecord): SqlValue[] => [
  u.provider,
  u.key,
  u.agentSession,
  u.project,
  u.model,
  isoTime(u.ts),
  u.input,
  u.output,
  u.cacheWrite5m,
  u.cacheWrite1h,
  u.cacheRead,
  u.reasoning,
];

const toolValues = (t: ToolCallRecord): SqlValue[] => [t.provider, t.key, t.agentSession, t.project, t.model, isoTime(t.ts), t.tool];

/** Inserts the rows that are not there yet; resolves to how many were new. */
async function insertAll<T>(tx: Queryable, head: string, columns: number, rows: readonly T[], values: (row: T) => SqlValue[]): Promise<number> {
  const tuple = `(${Array(columns).fill('?').join(',')})`;
  let added = 0;
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
    added += (await tx.run(`${head} VALUES ${Array(chunk.length).fill(tuple).join(',')} ON CONFLICT DO NOTHING`, chunk.flatMap(values))).changes;
  }
  return added;
}

/** Writes a batch inside the caller's transaction; keys already stored are left as they are. Resolves to the new records. */
export async function writeBatch(tx: Queryable, batch: UsageBatch): Promise<{ usage: number; toolCalls: number }> {
  const usage = await insertAll(
    tx,
    'INSERT INTO analytics_usage (provider, key, agent_session, project, model, ts, input, output, cache_write_5m, cache_write_1h, cache_read, reasoning)',
    12,
    batch.usage,
    usageValues,
  );
  const toolCalls = await insertAll(tx, 'INSERT INTO analytics_tool_calls (provider, key, agent_session, project, model, ts, tool)', 7, batch.toolCalls, toolValues);
  const mapped = new Map<string, [string, string, string]>();
  for (const r of [...batch.usage, ...batch.toolCalls]) if (r.session) mapped.set(`${r.provider}\n${r.agentSession}`, [r.provider, r.agentSession, r.session]);
  await insertAll(tx, 'INSERT INTO analytics_sessions (provider, agent_session, session)', 3, [...mapped.values()], (row) => row);
  return { usage, toolCalls };
}

export const batchSize = (batch: UsageBatch): number => batch.usage.length + batch.toolCalls.length;

export class SqlLedger implements UsageLedger {
  constructor(private readonly store: () => Store) {}

  async record(batch: UsageBatch): Promise<void> {
    if (batchSize(batch) === 0) return;
    await this.store().transaction((tx) => writeBatch(tx, batch));
  }
}
