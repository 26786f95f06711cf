import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, defineSocketEndpoint, IsoTime, Nullable, createServiceRef } from '@codepiper/sdk';

/*
 * Token and cost analytics. The analytics plugin keeps the ledger; providers,
 * which know their agents' file formats, feed it: live, from the files they
 * already follow, and from history through the importers they register.
 */

/**
 * Tokens of one API response, kept apart as they are priced. `input` is the
 * uncached input only: Codex's `input_tokens` includes its cached tokens, which
 * go to `cacheRead`. `reasoning` is part of `output`, shown for information.
 */
export interface TokenCounts {
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
  reasoning: number;
}

interface RecordBase {
  /**
   * Unique per provider and stable however often the file is read (Claude: the
   * message and request ids; Codex: the thread and its cumulative counters).
   */
  key: string;
  provider: string;
  /** The agent's own session id; a subagent's records carry its parent's. */
  agentSession: string;
  /** The CodePiper session, when CodePiper runs it; the ledger then maps `agentSession` to it for every record. */
  session?: string;
  /** The working directory. */
  project: string | null;
  model: string | null;
  ts: string | null;
}

/** One API response's usage. */
export interface UsageRecord extends RecordBase, TokenCounts {}

/** One tool call the agent made. */
export interface ToolCallRecord extends RecordBase {
  tool: string;
}

export interface UsageBatch {
  usage: UsageRecord[];
  toolCalls: ToolCallRecord[];
}

export const emptyBatch = (): UsageBatch => ({ usage: [], toolCalls: [] });

export interface UsageLedger {
  /** Stores the records; a key already stored is left as it is, so reading a file again changes nothing. */
  record(batch: UsageBatch): Promise<void>;
}

/** The analytics contract: the usage ledger and the history importers. Its version moves with what it promises: a major version for a change that breaks its users. */
export const ANALYTICS_CONTRACT = '1.0.0';

export const usageLedgerRef = createServiceRef<UsageLedger>('analytics.ledger', 'Token usage and tool calls, one record per API response or call', ANALYTICS_CONTRACT);

/** Reads one file line by line, from the start or from where an earlier read stopped. */
export interface HistoryParser {
  /** Adds what one line holds to `into`. Called for every complete line: test cheaply before parsing. */
  line(text: string, into: UsageBatch): void;
  /** What the parser needs to carry on after the last line it saw (JSON); stored with the file's offset. */
  state(): unknown;
}

/** What a provider registers so `codepiper analytics import` can read its agent's history. */
export interface HistoryImporter {
  /** The provider id (`claude-code`, `codex`). */
  readonly provider: string;
  /** Where the agent keeps its records by default (e.g. `~/.claude/projects`). */
  defaultDir(env: Readonly<Record<string, string | undefined>>): string;
  /** Whether a file under the directory holds records (e.g. `*.jsonl`). */
  accepts(file: string): boolean;
  /** A parser for `file`, continuing from the state an earlier read left (undefined: from the start). */
  parser(file: string, state: unknown): HistoryParser;
}

export interface HistoryImporters {
  register(importer: HistoryImporter): void;
  list(): readonly HistoryImporter[];
}

export const historyImportersRef = createServiceRef<HistoryImporters>('analytics.importers', 'Where providers register readers of their agents’ history', ANALYTICS_CONTRACT);

/* ----- Reports ----- */

export const USAGE_GROUPINGS = ['session', 'model', 'day', 'project', 'provider'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

const Count = Type.Integer({ minimum: 0 });

export const TokenCountsSchema = Type.Object({
  input: Type.Integer({ description: 'Uncached input tokens' }),
  output: Type.Integer({ description: 'Output tokens, reasoning included' }),
  cacheWrite5m: Type.Integer({ description: 'Input tokens written to the 5-minute cache' }),
  cacheWrite1h: Type.Integer({ description: 'Input tokens written to the 1-hour cache' }),
  cacheRead: Type.Integer({ description: 'Input tokens read from the cache' }),
  reasoning: Type.Integer({ description: 'Reasoning tokens (part of output)' }),
});

export const UsageTotalsSchema = Type.Composite([
  TokenCountsSchema,
  Type.Object({
    responses: Count,
    cacheHitRate: Nullable(Type.Number({ description: 'cacheRead / all input tokens (uncached, written, read); null without input' })),
    cost: Nullable(Type.Number({ description: 'Estimated USD at list prices; null when no model in the group has a price' })),
    unpricedModels: Type.Array(Type.String(), { description: 'Models in the group without a price; their tokens are not in `cost`' }),
  }),
]);
export type UsageTotals = Static<typeof UsageTotalsSchema>;

export const UsageRowSchema = Type.Composite([
  Type.Object({
    key: Type.String({ description: 'The session id, model, day (UTC, YYYY-MM-DD), directory or provider' }),
    provider: Type.Optional(Type.String({ description: 'By session: the session’s provider' })),
    project: Type.Optional(Nullable(Type.String({ description: 'By session: its directory' }))),
  }),
  UsageTotalsSchema,
]);
export type UsageRow = Static<typeof UsageRowSchema>;

const ReportFilter = {
  since: Type.Optional(IsoTime),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 time, exclusive' })),
  session: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A CodePiper session id or prefix, or an agent’s own session id' })),
};

export const UsageReportSchema = Type.Object({
  by: Type.Union(USAGE_GROUPINGS.map((g) => Type.Literal(g))),
  rows: Type.Array(UsageRowSchema),
  total: UsageTotalsSchema,
  pricesTaken: Type.String({ description: 'When the shipped list prices were taken (YYYY-MM-DD)' }),
});
export type UsageReport = Static<typeof UsageReportSchema>;

export const ToolReportSchema = Type.Object({
  rows: Type.Array(Type.Object({ tool: Type.String(), calls: Count, sessions: Count })),
  total: Type.Object({ calls: Count, sessions: Count }),
});
export type ToolReport = Static<typeof ToolReportSchema>;

/* ----- Imports ----- */

export const ImportStatusSchema = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  sources: Type.Array(Type.Object({ provider: Type.String(), dir: Type.String(), files: Count, missing: Type.Boolean({ description: 'The directory does not exist' }) })),
  files: Type.Object({ done: Count, total: Count }),
  bytes: Type.Object({ done: Count, total: Count, skipped: Type.Integer({ minimum: 0, description: 'Already imported earlier' }) }),
  added: Type.Object({ usage: Count, toolCalls: Count }),
  error: Nullable(Type.String()),
  startedAt: IsoTime,
  endedAt: Nullable(IsoTime),
});
export type ImportStatus = Static<typeof ImportStatusSchema>;

const ImportParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const analyticsEndpoints = {
  usage: defineEndpoint({
    method: 'GET',
    url: '/analytics/usage',
    summary: 'Token usage and estimated cost, grouped by session, model, day, project or provider',
    tags: ['analytics'],
    query: Type.Object({ by: Type.Optional(Type.Union(USAGE_GROUPINGS.map((g) => Type.Literal(g)), { default: 'session' })), ...ReportFilter }),
    response: UsageReportSchema,
  }),
  tools: defineEndpoint({
    method: 'GET',
    url: '/analytics/tools',
    summary: 'Tool calls by tool, from the agents’ records',
    tags: ['analytics'],
    query: Type.Object(ReportFilter),
    response: ToolReportSchema,
  }),
  startImport: defineEndpoint({
    method: 'POST',
    url: '/analytics/imports',
    summary: 'Import the history of agent sessions CodePiper did not run; one import at a time (409 while one runs). Files already read are read only from where they stopped.',
    tags: ['analytics'],
    body: Type.Object(
      {
        dirs: Type.Optional(
          Type.Record(Type.String({ maxLength: 64 }), Type.String({ minLength: 1, maxLength: 4096 }), {
            description: 'Provider → absolute directory to read instead of its standard location; every provider is imported',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    response: ImportStatusSchema,
    status: 202,
  }),
  showImport: defineEndpoint({
    method: 'GET',
    url: '/analytics/imports/:id',
    summary: 'An import’s progress or result',
    tags: ['analytics'],
    params: ImportParams,
    response: ImportStatusSchema,
  }),
  followImport: defineSocketEndpoint({
    url: '/analytics/imports/:id/progress',
    summary: 'An import’s status (JSON, one message each) now and as it progresses; closed once it has ended',
    tags: ['analytics'],
    params: ImportParams,
  }),
};
