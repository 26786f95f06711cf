import { readFile } from 'node:fs/promises';
import type { TranscriptEntry } from '@codepiper/sdk';

type Json = Record<string, unknown>;

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

export interface UsageRow {
  messageId: string;
  requestId: string;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheCreation5m: number;
  cacheCreation1h: number;
  cacheReadTokens: number;
  ts: string | null;
}

/** The usage of an `assistant` line (one API response may span several lines; key on message and request id). */
export function usageOf(line: Json): UsageRow | undefined {
  if (line.type !== 'assistant' || !isObject(line.message)) return undefined;
  const message = line.message;
  const usage = message.usage;
  const messageId = str(message.id);
  if (!isObject(usage) || !messageId) return undefined;
  const model = str(message.model);
  if (model === '<synthetic>') return undefined;
  const split = isObject(usage.cache_creation) ? usage.cache_creation : undefined;
  const creation = num(usage.cache_creation_input_tokens);
  return {
    messageId,
    requestId: str(line.requestId) ?? str(line.requestRef) ?? '',
    model: model ?? null,
    inputTokens: num(usage.input_tokens),
    outputTokens: num(usage.output_tokens),
    cacheCreation5m: split ? num(split.ephemeral_5m_input_tokens) : creation,
    cacheCreation1h: split ? num(split.ephemeral_1h_input_tokens) : 0,
    cacheReadTokens: num(usage.cache_read_input_tokens),
    ts: str(line.timestamp) ?? null,
  };
}

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
