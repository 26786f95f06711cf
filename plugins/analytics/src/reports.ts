import { badRequest, type SqlValue, type Store } from '@codepiper/sdk';
import type { TokenCounts, ToolReport, UsageGrouping, UsageReport, UsageRow, UsageTotals } from '@codepiper/analytics-contract';
import { costOf, priceOf, type PriceTable } from './prices.js';

export interface ReportFilter {
  since?: string;
  until?: string;
  /** A session key as the ledger shows it (already resolved). */
  session?: string;
}

/** The session a record belongs to: the CodePiper session running it, else the agent's own session id. */
const SESSION_KEY = 'coalesce(m.session, r.agent_session)';
const joinSessions = (table: string): string => `${table} r LEFT JOIN analytics_sessions m ON m.provider = r.provider AND m.agent_session = r.agent_session`;

const GROUP_KEY: Record<UsageGrouping, string> = {
  session: SESSION_KEY,
  model: "coalesce(r.model, '(unknown)')",
  day: "coalesce(substr(r.ts, 1, 10), '(unknown)')",
  project: "coalesce(r.project, '(unknown)')",
  provider: 'r.provider',
};

function where(filter: ReportFilter): { sql: string; params: SqlValue[] } {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  if (filter.since !== undefined) {
    clauses.push('r.ts >= ?');
    params.push(new Date(filter.since).toISOString());
  }
  if (filter.until !== undefined) {
    clauses.push('r.ts < ?');
    params.push(new Date(filter.until).toISOString());
  }
  if (filter.session !== undefined) {
    clauses.push(`${SESSION_KEY} = ?`);
    params.push(filter.session);
  }
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

interface GroupModelRow extends TokenCounts {
  key: string;
  model: string | null;
  provider: string;
  project: string | null;
  responses: number;
}

const TOKEN_FIELDS = ['input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead', 'reasoning'] as const;

const emptyTotals = (): UsageTotals => ({ input: 0, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0, reasoning: 0, responses: 0, cacheHitRate: null, cost: null, unpricedModels: [] });

/** Adds one model's tokens to a group's totals, priced by that model. */
function add(totals: UsageTotals, row: GroupModelRow, prices: PriceTable): void {
  for (const field of TOKEN_FIELDS) totals[field] += row[field];
  totals.responses += row.responses;
  const price = priceOf(prices, row.model);
  if (price) totals.cost = (totals.cost ?? 0) + costOf(row, price);
  else if (!totals.unpricedModels.includes(row.model ?? '(unknown)')) totals.unpricedModels.push(row.model ?? '(unknown)');
  const prompt = totals.input + totals.cacheWrite5m + totals.cacheWrite1h + totals.cacheRead;
  totals.cacheHitRate = prompt > 0 ? totals.cacheRead / prompt : null;
}

const tokensOf = (t: UsageTotals): number => t.input + t.output + t.cacheWrite5m + t.cacheWrite1h + t.cacheRead;

export async function usageReport(store: Store, prices: PriceTable, by: UsageGrouping, filter: ReportFilter): Promise<UsageReport> {
  const { sql, params } = where(filter);
  const rows = await store.all<GroupModelRow>(
    `SELECT ${GROUP_KEY[by]} AS key, r.model AS model, min(r.provider) AS provider, min(r.project) AS project, count(*) AS responses,
            sum(r.input) AS input, sum(r.output) AS output, sum(r.cache_write_5m) AS cacheWrite5m, sum(r.cache_write_1h) AS cacheWrite1h,
            sum(r.cache_read) AS cacheRead, sum(r.reasoning) AS reasoning
     FROM ${joinSessions('analytics_usage')} ${sql}
     GROUP BY 1, 2`,
    params,
  );
  const groups = new Map<string, UsageRow>();
  const total = emptyTotals();
  for (const row of rows) {
    let group = groups.get(row.key);
    if (!group) {
      group = { key: row.key, ...(by === 'session' ? { provider: row.provider, project: row.project } : {}), ...emptyTotals() };
      groups.set(row.key, group);
    }
    add(group, row, prices);
    add(total, row, prices);
  }
  const sorted = [...groups.values()].sort(by === 'day' ? (a, b) => a.key.localeCompare(b.key) : (a, b) => tokensOf(b) - tokensOf(a) || a.key.localeCompare(b.key));
  return { by, rows: sorted, total, pricesTaken: prices.taken };
}

export async function toolReport(store: Store, filter: ReportFilter): Promise<ToolReport> {
  const { sql, params } = where(filter);
  const rows = await store.all<{ tool: string; calls: number; sessions: number }>(
    `SELECT r.tool AS tool, count(*) AS calls, count(DISTINCT ${SESSION_KEY}) AS sessions FROM ${joinSessions('analytics_tool_calls')} ${sql}
     GROUP BY r.tool ORDER BY calls DESC, tool`,
    params,
  );
  const total = await store.get<{ calls: number; sessions: number }>(
    `SELECT count(*) AS calls, count(DISTINCT ${SESSION_KEY}) AS sessions FROM ${joinSessions('analytics_tool_calls')} ${sql}`,
    params,
  );
  return { rows, total: total ?? { calls: 0, sessions: 0 } };
}

/** Session keys in the ledger that start with `prefix` (at most `limit`). */
export async function sessionsMatching(store: Store, prefix: string, limit: number): Promise<string[]> {
  const rows = await store.all<{ key: string }>(
    `SELECT key FROM (
       SELECT ${SESSION_KEY} AS key FROM ${joinSessions('analytics_usage')}
       UNION SELECT ${SESSION_KEY} AS key FROM ${joinSessions('analytics_tool_calls')}
     ) WHERE substr(key, 1, ?) = ? ORDER BY key LIMIT ?`,
    [prefix.length, prefix, limit],
  );
  return rows.map((r) => r.key);
}

/** since < until, when both are given. */
export function checkRange(filter: ReportFilter): void {
  if (filter.since !== undefined && filter.until !== undefined && Date.parse(filter.since) >= Date.parse(filter.until)) {
    throw badRequest(`since (${filter.since}) must be before until (${filter.until})`);
  }
}
