import type { TranscriptEntry } from '@codepiper/sessions-contract';

/** One bubble of the conversation view: a message, or a tool call with its result once there is one. */
export type Turn =
  | { kind: 'user' | 'assistant'; text: string; ts: string | null }
  | { kind: 'tool'; name: string; input: unknown; result: string | undefined; ts: string | null };

/**
 * The transcript as a reader follows it: each tool result joins the call it
 * answers (by the call's id), and empty messages (a turn that was only a tool
 * call) are left out.
 */
export function toTurns(entries: readonly TranscriptEntry[]): Turn[] {
  const turns: Turn[] = [];
  const calls = new Map<string, Extract<Turn, { kind: 'tool' }>>();
  for (const entry of entries) {
    if (entry.kind === 'tool_call') {
      const call = { kind: 'tool' as const, name: entry.tool?.name ?? '', input: entry.tool?.input ?? null, result: undefined, ts: entry.ts };
      if (entry.tool?.id) calls.set(entry.tool.id, call);
      turns.push(call);
    } else if (entry.kind === 'tool_result') {
      const call = entry.tool?.id ? calls.get(entry.tool.id) : undefined;
      if (call) call.result = entry.text;
      else turns.push({ kind: 'tool', name: entry.tool?.name ?? '', input: null, result: entry.text, ts: entry.ts });
    } else if (entry.text.trim() !== '') {
      turns.push({ kind: entry.kind, text: entry.text, ts: entry.ts });
    }
  }
  return turns;
}
