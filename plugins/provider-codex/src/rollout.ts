import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HistoryImporter, HistoryParser, TokenCounts, UsageBatch, UsageRecord } from '@codepiper/analytics-contract';
import type { TranscriptEntry } from '@codepiper/sessions-contract';

/** Cumulative usage as Codex writes it (`event_msg` `token_count` `info.total_token_usage`). */
export interface CodexUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

export interface RolloutLine {
  timestamp?: string;
  type: string;
  payload: Record<string, unknown>;
}

/** What one rollout line means to CodePiper. */
export type RolloutFact =
  | { kind: 'usage'; usage: CodexUsage; last: CodexUsage | undefined }
  | { kind: 'model'; model: string }
  | { kind: 'tool_call'; name: string; arguments: unknown; callId: string | null; turnId: string | null }
  | { kind: 'task_complete'; turnId: string | null; lastAgentMessage: string | null };

export function parseLine(text: string): RolloutLine | undefined {
  if (!text.trim()) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed) || typeof parsed.type !== 'string' || !isObject(parsed.payload)) return undefined;
    return { timestamp: typeof parsed.timestamp === 'string' ? parsed.timestamp : undefined, type: parsed.type, payload: parsed.payload };
  } catch {
    return undefined;
  }
}

const USAGE_FIELDS = ['input_tokens', 'cached_input_tokens', 'output_tokens', 'reasoning_output_tokens', 'total_tokens'] as const;

function codexUsage(value: unknown): CodexUsage | undefined {
  if (!isObject(value)) return undefined;
  const usage = {} as CodexUsage;
  for (const field of USAGE_FIELDS) {
    const n = value[field];
    usage[field] = typeof n === 'number' && Number.isFinite(n) ? n : 0;
  }
  return usage;
}

export function factOf(line: RolloutLine): RolloutFact | undefined {
  const p = line.payload;
  if (line.type === 'turn_context' && typeof p.model === 'string') return { kind: 'model', model: p.model };
  if (line.type === 'event_msg' && p.type === 'token_count') {
    const info = isObject(p.info) ? p.info : undefined;
    const usage = codexUsage(info?.total_token_usage);
    return usage ? { kind: 'usage', usage, last: codexUsage(info?.last_token_usage) } : undefined;
  }
  if (line.type === 'event_msg' && p.type === 'task_complete') {
    return { kind: 'task_complete', turnId: str(p.turn_id), lastAgentMessage: str(p.last_agent_message) };
  }
  if (line.type === 'response_item' && (p.type === 'function_call' || p.type === 'custom_tool_call' || p.type === 'local_shell_call')) {
    const passthrough = isObject(p.internal_chat_message_metadata_passthrough) ? p.internal_chat_message_metadata_passthrough : {};
    return {
      kind: 'tool_call',
      name: str(p.name) ?? String(p.type),
      arguments: toolInput(p),
      callId: str(p.call_id),
      turnId: str(passthrough.turn_id),
    };
  }
  return undefined;
}

const PROVIDER = 'codex';

/** What a rollout parser carries from one read of a file to the next. */
export interface RolloutState {
  thread: string | null;
  project: string | null;
  model: string | null;
  /** The last cumulative usage seen. */
  totals: CodexUsage | null;
}

/**
 * The usage between two cumulative counters, or undefined when nothing was
 * added (Codex repeats a `token_count` at times). A counter that went down
 * started again from zero.
 */
export function usageDelta(previous: CodexUsage | null, current: CodexUsage): CodexUsage | undefined {
  if (previous && USAGE_FIELDS.every((f) => current[f] === previous[f])) return undefined;
  const base = previous && USAGE_FIELDS.every((f) => current[f] >= previous[f]) ? previous : undefined;
  const delta = {} as CodexUsage;
  for (const field of USAGE_FIELDS) delta[field] = current[field] - (base?.[field] ?? 0);
  return delta;
}

/** Only these lines matter for usage, tool calls and turns; others are skipped before they are parsed. */
const RELEVANT = /"(?:session_meta|turn_context|token_count|task_complete)"|_call"/;
const THREAD_IN_NAME = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/;

/**
 * Reads rollout lines into ledger records: one usage record per response (its
 * `last_token_usage`, or else the difference between consecutive cumulative
 * counters), keyed by the thread and the cumulative counters, so a repeated
 * `token_count`, a file read again or history copied on resume adds nothing.
 * Cached input is part of Codex's input: it is moved to `cacheRead`.
 * `onFact` sees each fact (the tracker's events).
 */
export class RolloutParser implements HistoryParser {
  private readonly current: RolloutState;

  constructor(
    file: string,
    state: RolloutState | undefined,
    private readonly options: { session?: string; onFact?: (fact: RolloutFact, line: RolloutLine) => void } = {},
  ) {
    this.current = state ?? { thread: THREAD_IN_NAME.exec(file)?.[1] ?? null, project: null, model: null, totals: null };
  }

  line(text: string, into: UsageBatch): void {
    if (!RELEVANT.test(text)) return;
    const line = parseLine(text);
    if (!line) return;
    const p = line.payload;
    if (line.type === 'session_meta') {
      this.current.thread ??= str(p.id);
      this.current.project = str(p.cwd) ?? this.current.project;
    } else if (line.type === 'turn_context') this.current.project = str(p.cwd) ?? this.current.project;
    const fact = factOf(line);
    if (!fact) return;
    const base = {
      provider: PROVIDER,
      agentSession: this.current.thread ?? '',
      ...(this.options.session ? { session: this.options.session } : {}),
      project: this.current.project,
      model: this.current.model,
      ts: line.timestamp ?? null,
    };
    if (fact.kind === 'model') this.current.model = fact.model;
    else if (fact.kind === 'usage') {
      const delta = usageDelta(this.current.totals, fact.usage);
      this.current.totals = fact.usage;
      if (delta) into.usage.push(usageRecord(base, fact.usage, fact.last ?? delta));
    } else if (fact.kind === 'tool_call') {
      into.toolCalls.push({ ...base, key: fact.callId ?? `${base.agentSession}:${base.ts ?? ''}:${fact.name}`, tool: fact.name });
    }
    this.options.onFact?.(fact, line);
  }

  state(): RolloutState {
    return { ...this.current };
  }
}

function usageRecord(base: Omit<UsageRecord, 'key' | keyof TokenCounts>, totals: CodexUsage, delta: CodexUsage): UsageRecord {
  return {
    ...base,
    key: `${base.agentSession}:${totals.input_tokens}:${totals.cached_input_tokens}:${totals.output_tokens}:${totals.total_tokens}`,
    input: delta.input_tokens - delta.cached_input_tokens,
    output: delta.output_tokens,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    cacheRead: delta.cached_input_tokens,
    reasoning: delta.reasoning_output_tokens,
  };
}

/** `codepiper analytics import` for Codex: every rollout under `~/.codex/sessions` (or `$CODEX_HOME/sessions`). */
export const codexHistory: HistoryImporter = {
  provider: PROVIDER,
  defaultDir: (env) => path.join(env.CODEX_HOME || path.join(env.HOME || os.homedir(), '.codex'), 'sessions'),
  accepts: (file) => /(^|\/)rollout-[^/]*\.jsonl$/.test(file),
  parser: (file, state) => new RolloutParser(file, state as RolloutState | undefined),
};

/** The conversation from a rollout: the user's prompts, the agent's messages, tool calls and their results. */
export function transcriptOf(lines: readonly RolloutLine[]): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  let model: string | undefined;
  for (const line of lines) {
    const p = line.payload;
    const ts = line.timestamp ?? null;
    if (line.type === 'turn_context' && typeof p.model === 'string') model = p.model;
    if (line.type === 'event_msg' && p.type === 'item_completed' && isObject(p.item)) {
      const item = p.item;
      const text = contentText(item.content);
      if (item.type === 'UserMessage') entries.push({ kind: 'user', ts, text });
      else if (item.type === 'AgentMessage') entries.push({ kind: 'assistant', ts, text, ...(model ? { model } : {}) });
    } else if (line.type === 'response_item') {
      if (p.type === 'function_call' || p.type === 'custom_tool_call' || p.type === 'local_shell_call') {
        const id = str(p.call_id);
        entries.push({ kind: 'tool_call', ts, text: '', tool: { name: str(p.name) ?? String(p.type), input: toolInput(p), ...(id ? { id } : {}) } });
      } else if (p.type === 'function_call_output' || p.type === 'custom_tool_call_output') {
        const id = str(p.call_id);
        entries.push({ kind: 'tool_result', ts, text: outputText(p.output), tool: { name: '', input: null, ...(id ? { id } : {}) } });
      }
    }
  }
  return entries;
}

export async function readRollout(file: string): Promise<RolloutLine[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').flatMap((l) => parseLine(l) ?? []);
}

function toolInput(p: Record<string, unknown>): unknown {
  const raw = p.arguments ?? p.input ?? p.action;
  if (typeof raw !== 'string') return raw ?? null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.flatMap((c: unknown) => (isObject(c) && typeof c.text === 'string' ? [c.text] : [])).join('\n');
}

function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return contentText(output);
  if (isObject(output) && typeof output.content === 'string') return output.content;
  return JSON.stringify(output ?? '');
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
