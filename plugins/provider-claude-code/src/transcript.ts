import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HistoryImporter, HistoryParser, UsageBatch } from '@codepiper/analytics-contract';
import type { TranscriptEntry } from '@codepiper/sessions-contract';

export type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** One line of a transcript, parsed; undefined for blank or broken lines. */
export function parseLine(line: string): Json | undefined {
  if (!line.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const PROVIDER = 'claude-code';

/**
 * The usage and tool calls of an `assistant` line. One API response may span
 * several lines repeating its usage: the key (message and request id) makes
 * it count once. Claude Code's own `<synthetic>` messages are not API calls.
 */
export function recordsOf(line: Json, into: UsageBatch, agentSession: string, session?: string): void {
  if (line.type !== 'assistant' || !isObject(line.message)) return;
  const message = line.message;
  const model = str(message.model) ?? null;
  if (model === '<synthetic>') return;
  const base = { provider: PROVIDER, agentSession: str(line.sessionId) ?? agentSession, ...(session ? { session } : {}), project: str(line.cwd) ?? null, model, ts: str(line.timestamp) ?? null };
  const usage = message.usage;
  const messageId = str(message.id);
  if (isObject(usage) && messageId) {
    const split = isObject(usage.cache_creation) ? usage.cache_creation : undefined;
    into.usage.push({
      ...base,
      key: `${messageId}:${str(line.requestId) ?? str(line.requestRef) ?? ''}`,
      input: num(usage.input_tokens),
      output: num(usage.output_tokens),
      // Without the split (older versions), a cache write is a 5-minute one.
      cacheWrite5m: split ? num(split.ephemeral_5m_input_tokens) : num(usage.cache_creation_input_tokens),
      cacheWrite1h: split ? num(split.ephemeral_1h_input_tokens) : 0,
      cacheRead: num(usage.cache_read_input_tokens),
      reasoning: 0,
    });
  }
  if (!Array.isArray(message.content)) return;
  for (const block of message.content) {
    const id = isObject(block) && block.type === 'tool_use' ? str(block.id) : undefined;
    if (id && isObject(block)) into.toolCalls.push({ ...base, key: id, tool: str(block.name) ?? '' });
  }
}

/** `<project>/<session>.jsonl` and its subagents' `<project>/<session>/subagents/agent-<id>.jsonl` belong to `<session>`. */
export function sessionOfFile(file: string): string {
  const parts = file.split(path.sep);
  const subagents = parts.lastIndexOf('subagents');
  return subagents >= 1 ? (parts[subagents - 1] ?? '') : path.basename(file, '.jsonl');
}

/**
 * Reads a transcript's lines into usage and tool-call records. Only
 * `assistant` lines hold either, so every other line is skipped before it is
 * parsed; `onAssistant` sees each parsed one (the tailer notes models).
 */
export class TranscriptParser implements HistoryParser {
  private readonly agentSession: string;

  constructor(
    file: string,
    private readonly options: { session?: string; onAssistant?: (line: Json) => void } = {},
  ) {
    this.agentSession = sessionOfFile(file);
  }

  line(text: string, into: UsageBatch): void {
    if (!text.includes('"assistant"')) return;
    const line = parseLine(text);
    if (!line) return;
    recordsOf(line, into, this.agentSession, this.options.session);
    this.options.onAssistant?.(line);
  }

  state(): null {
    return null;
  }
}

/** `codepiper analytics import` for Claude Code: every transcript under `~/.claude/projects` (or `$CLAUDE_CONFIG_DIR/projects`), subagents included. */
export const claudeHistory: HistoryImporter = {
  provider: PROVIDER,
  defaultDir: (env) => path.join(env.CLAUDE_CONFIG_DIR ?? path.join(env.HOME ?? os.homedir(), '.claude'), 'projects'),
  accepts: (file) => file.endsWith('.jsonl'),
  parser: (file) => new TranscriptParser(file),
};

/** The model that answered, from an `assistant` line (not Claude Code's own `<synthetic>` messages). */
export function modelOf(line: Json): string | undefined {
  if (line.type !== 'assistant' || !isObject(line.message)) return undefined;
  const model = str(line.message.model);
  return model && model !== '<synthetic>' ? model : undefined;
}

function textOfToolResult(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b): b is Json => isObject(b) && b.type === 'text')
    .map((b) => str(b.text) ?? '')
    .join('\n');
}

/** Transcript lines as SDK entries: user text, assistant text, tool calls and tool results; everything else skipped. */
export function toEntries(lines: Iterable<Json>): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  for (const line of lines) {
    if ((line.type !== 'user' && line.type !== 'assistant') || !isObject(line.message) || line.isMeta === true) continue;
    const ts = str(line.timestamp) ?? null;
    const content = line.message.content;
    if (line.type === 'user') {
      if (typeof content === 'string') {
        if (content.trim()) entries.push({ kind: 'user', ts, text: content });
        continue;
      }
      if (!Array.isArray(content)) continue;
      for (const block of content) {
        if (!isObject(block)) continue;
        if (block.type === 'text' && str(block.text)?.trim()) entries.push({ kind: 'user', ts, text: str(block.text) ?? '' });
        else if (block.type === 'tool_result') {
          const id = str(block.tool_use_id);
          entries.push({ kind: 'tool_result', ts, text: textOfToolResult(block.content), ...(id ? { tool: { name: '', input: null, id } } : {}) });
        }
      }
      continue;
    }
    const model = modelOf(line);
    if (!Array.isArray(content)) continue;
    for (const block of content) {
      if (!isObject(block)) continue;
      if (block.type === 'text' && str(block.text)) entries.push({ kind: 'assistant', ts, text: str(block.text) ?? '', ...(model ? { model } : {}) });
      else if (block.type === 'tool_use') {
        const id = str(block.id);
        entries.push({ kind: 'tool_call', ts, text: '', tool: { name: str(block.name) ?? '', input: block.input ?? null, ...(id ? { id } : {}) }, ...(model ? { model } : {}) });
      }
    }
  }
  // Tool results name their tool from the call they answer.
  const names = new Map(entries.filter((e) => e.kind === 'tool_call' && e.tool?.id).map((e) => [e.tool?.id, e.tool?.name ?? '']));
  for (const entry of entries) if (entry.kind === 'tool_result' && entry.tool?.id) entry.tool.name = names.get(entry.tool.id) ?? '';
  return entries;
}

export async function readTranscript(file: string): Promise<TranscriptEntry[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const lines: Json[] = [];
  for (const raw of text.split('\n')) {
    const line = parseLine(raw);
    if (line) lines.push(line);
  }
  return toEntries(lines);
}
