import path from 'node:path';
import type { CAC } from 'cac';
import { analyticsEndpoints, USAGE_GROUPINGS, type ImportStatus, type ToolReport, type UsageGrouping, type UsageReport, type UsageTotals } from '@codepiper/analytics-contract';
import { optionValue, parseTime } from '../args.js';
import { withActions } from '../command-line.js';
import { connect } from '../client.js';
import { forSession, UsageError } from '../errors.js';
import { follow } from '../follow.js';
import { formatMegabytes, formatTable, shortId } from '../format.js';
import { print, printJson } from '../output.js';

const GROUPINGS = [...USAGE_GROUPINGS, 'tool'] as const;
type Grouping = (typeof GROUPINGS)[number];

export function parseGrouping(text: string | undefined): Grouping {
  if (text === undefined) return 'session';
  const by = GROUPINGS.find((g) => g === text);
  if (!by) throw new UsageError(`--by must be one of ${GROUPINGS.join(', ')}; got "${text}"`);
  return by;
}

/** `--until`: a date means the whole of that day (UTC); a time or an age is the exclusive end. */
export function parseUntil(text: string, now: number = Date.now()): string {
  const time = parseTime(text, '--until', now);
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(Date.parse(time) + 86_400_000).toISOString() : time;
}

export interface ReportOptions {
  by?: unknown;
  since?: unknown;
  until?: unknown;
  session?: unknown;
  json?: boolean;
  csv?: boolean;
}

/** The report's query, checked here so that bad input never reaches the daemon. */
export function reportQuery(options: ReportOptions, now: number = Date.now()): { by: Grouping; since?: string; until?: string; session?: string } {
  if (options.json && options.csv) throw new UsageError('give --json or --csv, not both');
  const by = parseGrouping(optionValue(options.by, '--by'));
  const sinceText = optionValue(options.since, '--since');
  const untilText = optionValue(options.until, '--until');
  const since = sinceText === undefined ? undefined : parseTime(sinceText, '--since', now);
  const until = untilText === undefined ? undefined : parseUntil(untilText, now);
  if (since !== undefined && until !== undefined && since >= until) throw new UsageError(`--since (${sinceText}) must be before --until (${untilText})`);
  const session = optionValue(options.session, '--session');
  return { by, ...(since ? { since } : {}), ...(until ? { until } : {}), ...(session ? { session } : {}) };
}

const count = (n: number): string => n.toLocaleString('en-US');
const percent = (rate: number | null): string => (rate === null ? '-' : `${(rate * 100).toFixed(1)}%`);

/** `$0.0123`; `unpriced` when no model has a price; a `*` when some tokens are left out of the sum. */
export function costText(t: Pick<UsageTotals, 'cost' | 'unpricedModels'>): string {
  if (t.cost === null) return 'unpriced';
  return `$${t.cost.toFixed(t.cost < 1 ? 4 : 2)}${t.unpricedModels.length > 0 ? '*' : ''}`;
}

const HEADER: Record<UsageGrouping, string> = { session: 'SESSION', model: 'MODEL', day: 'DAY (UTC)', project: 'PROJECT', provider: 'PROVIDER' };

/** What is missing and how to add it: a price per model under analytics.prices in config.yaml. */
const unpricedNote = (models: readonly string[]): string =>
  `No price for ${models.join(', ')}: their tokens are not in the cost. To price one, add it to config.yaml under analytics.prices, as ${models[0]}: { input, output, cache_write_5m, cache_write_1h, cache_read } in USD per million tokens, and restart the daemon.`;

export function formatUsage(report: UsageReport): string {
  if (report.rows.length === 0) return 'no usage recorded';
  const session = report.by === 'session';
  const numbers = (t: UsageTotals): string[] => [count(t.responses), count(t.input), count(t.output), count(t.cacheWrite5m), count(t.cacheWrite1h), count(t.cacheRead), percent(t.cacheHitRate), costText(t)];
  const rows = report.rows.map((r) => [session ? shortId(r.key) : r.key, ...(session ? [r.provider ?? '', r.project ?? '-'] : []), ...numbers(r)]);
  rows.push(['total', ...(session ? ['', ''] : []), ...numbers(report.total)]);
  const header = [HEADER[report.by], ...(session ? ['PROVIDER', 'PROJECT'] : []), 'RESPONSES', 'INPUT', 'OUTPUT', 'CACHE WRITE 5M', 'CACHE WRITE 1H', 'CACHE READ', 'CACHE HIT', 'COST'];
  const notes = [`Cost: estimated at list prices taken ${report.pricesTaken} (override them in config.yaml, analytics.prices).`];
  if (report.total.unpricedModels.length > 0) notes.push(`* ${unpricedNote(report.total.unpricedModels)}`);
  return `${formatTable(header, rows)}\n\n${notes.join('\n')}`;
}

export const formatTools = (report: ToolReport): string =>
  report.rows.length === 0 ? 'no tool calls recorded' : formatTable(['TOOL', 'CALLS', 'SESSIONS'], [...report.rows.map((r) => [r.tool, count(r.calls), count(r.sessions)]), ['total', count(report.total.calls), count(report.total.sessions)]]);

const csvCell = (value: string | number | null | undefined): string => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};
const csv = (rows: readonly (readonly (string | number | null | undefined)[])[]): string => rows.map((row) => row.map(csvCell).join(',')).join('\n');

export function usageCsv(report: UsageReport): string {
  const header = [report.by, 'provider', 'project', 'responses', 'input', 'output', 'cache_write_5m', 'cache_write_1h', 'cache_read', 'reasoning', 'cache_hit_rate', 'cost_usd', 'unpriced_models'];
  return csv([
    header,
    ...report.rows.map((r) => [r.key, r.provider, r.project, r.responses, r.input, r.output, r.cacheWrite5m, r.cacheWrite1h, r.cacheRead, r.reasoning, r.cacheHitRate, r.cost, r.unpricedModels.join(' ')]),
  ]);
}

export const toolsCsv = (report: ToolReport): string => csv([['tool', 'calls', 'sessions'], ...report.rows.map((r) => [r.tool, r.calls, r.sessions])]);

export function importProgress(s: ImportStatus): string {
  const share = s.bytes.total > 0 ? Math.floor((s.bytes.done / s.bytes.total) * 100) : 100;
  return `importing: ${share}% (${formatMegabytes(s.bytes.done)} of ${formatMegabytes(s.bytes.total)}, file ${s.files.done} of ${s.files.total})`;
}

export function importSummary(s: ImportStatus): string {
  const lines = s.sources.map((src) => `${src.provider}: ${src.dir} (${src.missing ? 'not found' : `${count(src.files)} files`})`);
  const read = s.bytes.done - s.bytes.skipped;
  lines.push(
    `added ${count(s.added.usage)} responses and ${count(s.added.toolCalls)} tool calls; read ${formatMegabytes(read)}${s.bytes.skipped > 0 ? `, ${formatMegabytes(s.bytes.skipped)} imported before` : ''}`,
  );
  return lines.join('\n');
}

async function runImport(options: { claudeDir?: unknown; codexDir?: unknown; json?: boolean }): Promise<number> {
  const dirs: Record<string, string> = {};
  const claude = optionValue(options.claudeDir, '--claude-dir');
  const codex = optionValue(options.codexDir, '--codex-dir');
  if (claude !== undefined) dirs['claude-code'] = path.resolve(claude);
  if (codex !== undefined) dirs.codex = path.resolve(codex);
  const client = connect();
  let status = await client.call(analyticsEndpoints.startImport, { body: { dirs } });
  const live = process.stderr.isTTY && !options.json;
  let lastShare = -1;
  const socket = await client.openSocket(analyticsEndpoints.followImport, { params: { id: status.id } }, (data) => {
    status = JSON.parse(data.toString('utf8')) as ImportStatus;
    if (status.state !== 'running' || options.json) return;
    // On a terminal the line is redrawn; in a log, one line per tenth.
    const share = Math.floor((status.bytes.done / Math.max(1, status.bytes.total)) * 10);
    if (live) process.stderr.write(`\r${importProgress(status)}\x1b[K`);
    else if (share > lastShare) process.stderr.write(`${importProgress(status)}\n`);
    lastShare = share;
  });
  await follow(socket);
  if (live) process.stderr.write('\r\x1b[K');
  if (options.json) printJson(status);
  else print(importSummary(status));
  if (status.state === 'failed') throw new Error(`the import failed: ${status.error ?? 'unknown error'}`);
  if (status.state === 'running') throw new Error('the connection to the daemon ended before the import did; run the same command again to carry on');
  return 0;
}

async function report(options: ReportOptions): Promise<number> {
  const { by, ...filter } = reportQuery(options);
  const client = connect();
  const call = <T>(promise: Promise<T>) => (filter.session === undefined ? promise : forSession(filter.session, promise));
  if (by === 'tool') {
    const tools = await call(client.call(analyticsEndpoints.tools, { query: filter }));
    print(options.json ? JSON.stringify(tools, null, 2) : options.csv ? toolsCsv(tools) : formatTools(tools));
  } else {
    const usage = await call(client.call(analyticsEndpoints.usage, { query: { by, ...filter } }));
    print(options.json ? JSON.stringify(usage, null, 2) : options.csv ? usageCsv(usage) : formatUsage(usage));
  }
  return 0;
}

export function registerAnalyticsCommands(cli: CAC): void {
  withActions(cli.command('analytics [action]', 'Tokens, cache and estimated cost of agent sessions; `analytics import` reads the history of sessions CodePiper did not run'), ['import'])
    .usage('analytics [--by session|model|day|project|provider|tool] [--since TIME] [--until TIME] [--session ID] [--json|--csv]\n  codepiper analytics import [--claude-dir DIR] [--codex-dir DIR] [--json]')
    .option('--by <grouping>', `One row per ${GROUPINGS.join(', ')} (default: session)`)
    .option('--since <time>', 'Only usage from this time on: 2026-01-31, 2026-01-31T10:00:00Z or an age (7d, 12h)')
    .option('--until <time>', 'Only usage before this time; a date includes that whole day (UTC)')
    .option('--session <id>', 'Only this session: a CodePiper id or prefix, or the agent’s own session id')
    .option('--json', 'Print the API response as JSON')
    .option('--csv', 'Print comma-separated values, one row per group')
    .option('--claude-dir <dir>', 'import: Claude Code transcripts (default: ~/.claude/projects, or $CLAUDE_CONFIG_DIR/projects)')
    .option('--codex-dir <dir>', 'import: Codex rollouts (default: ~/.codex/sessions, or $CODEX_HOME/sessions)')
    .example('  $ codepiper analytics')
    .example('  $ codepiper analytics --by day --since 7d')
    .example('  $ codepiper analytics --by model --session 3f2a --csv > usage.csv')
    .example('  $ codepiper analytics --by tool')
    .example('  $ codepiper analytics import --claude-dir ~/old-laptop/.claude/projects')
    .action((action: string | undefined, options: ReportOptions & { claudeDir?: unknown; codexDir?: unknown }) => {
      if (action === 'import') {
        for (const flag of ['by', 'since', 'until', 'session', 'csv'] as const) if (options[flag] !== undefined) throw new UsageError(`--${flag} is for reports, not for import`);
        return runImport(options);
      }
      if (action !== undefined) throw new UsageError(`unknown analytics action "${action}"; use "codepiper analytics" for reports or "codepiper analytics import"`);
      if (options.claudeDir !== undefined || options.codexDir !== undefined) throw new UsageError('--claude-dir and --codex-dir are for "codepiper analytics import"');
      return report(options);
    });
}
