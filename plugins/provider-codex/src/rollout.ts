import { readFile } from 'node:fs/promises';
import type { TranscriptEntry } from '@codepiper/sdk';

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
  | { kind: 'usage'; usage: CodexUsage }
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

export function factOf(line: RolloutLine): RolloutFact | undefined {
  const p = line.payload;
  if (line.type === 'turn_context' && typeof p.model === 'string') return { kind: 'model', model: p.model };
  if (line.type === 'event_msg' && p.type === 'token_count') {
    const total = isObject(p.info) ? p.info.total_token_usage : undefined;
    if (!isObject(total)) return undefined;
    const usage = {} as CodexUsage;
    for (const field of USAGE_FIELDS) {
      const value = total[field];
      usage[field] = typeof value === 'number' && Number.isFinite(value) ? value : 0;
    }
    return { kind: 'usage', usage };
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
