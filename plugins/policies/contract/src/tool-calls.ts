import { defineBailHook, defineParallelHook } from '@codepiper/sdk';
import type { SessionRecord } from '@codepiper/sessions-contract';

/**
 * An agent's tool call, as its hooks report it (Claude Code's and Codex's
 * PreToolUse and PermissionRequest), put to whoever decides permissions.
 */
export interface ToolCallQuestion {
  session: SessionRecord;
  /**
   * `check`: the call is about to run, and the agent itself asks the person
   * when told `ask` (Claude Code's PreToolUse, in any permission mode);
   * `prompt`: a person is to be asked now (the agent's permission prompt, or
   * a call an agent cannot be told to ask about: Codex's PreToolUse).
   */
  stage: 'check' | 'prompt';
  toolName: string;
  toolInput: unknown;
  /** Aborted when the agent stops waiting for this answer: answered no or interrupted in its own terminal, or gone. */
  signal: AbortSignal;
}

export interface ToolCallVerdict {
  /** `ask`: the person decides (on `check`, the agent must ask even in its auto modes). */
  decision: 'allow' | 'deny' | 'ask';
  reason: string;
}

export const toolPermission = defineBailHook<ToolCallQuestion, ToolCallVerdict>({
  name: 'agents.toolPermission',
  owner: 'policies',
  payload: 'ToolCallQuestion → ToolCallVerdict',
  description:
    'Before an agent’s tool call runs (`check`) and when the agent asks for permission (`prompt`). The first tap returning a verdict answers the agent; none: the agent decides itself. A failing tap: a `check` is answered ask (never allow), a `prompt` is left to the agent’s own prompt.',
});

/** A tool call that ran (its PostToolUse). */
export interface ToolCallRan {
  session: SessionRecord;
  toolName: string;
  toolInput: unknown;
}

export const toolCallRan = defineParallelHook<ToolCallRan>({
  name: 'agents.toolCallRan',
  owner: 'policies',
  payload: 'ToolCallRan',
  description: 'After an agent’s tool call ran: a question still pending about it was answered yes in the agent’s own terminal.',
});

/** A tool call decided while the daemon could not be reached, reported when it is back. */
export interface ToolCallOffline {
  session: SessionRecord;
  toolName: string;
  toolInput: unknown;
  /** What came of it: `allow` (it ran), `deny` (refused), `ask` (left to the person, with no sign that it ran). */
  outcome: 'allow' | 'deny' | 'ask';
  reason: string;
}

export const toolCallOffline = defineParallelHook<ToolCallOffline>({
  name: 'agents.toolCallOffline',
  owner: 'policies',
  payload: 'ToolCallOffline',
  description: 'A tool call an agent made while its hook forwarder could not reach the daemon (kept by the forwarder), reported once the daemon is back, for the audit trail.',
});

/** What a tool call is about, in one line for a status or a notification: `Bash rm -f x`. */
export function describeToolCall(toolName: string, input: unknown): string {
  const fields = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const what = [fields.command, fields.file_path, fields.path, fields.url, fields.pattern].find((v): v is string => typeof v === 'string') ?? (input === undefined ? '' : JSON.stringify(input));
  const text = `${toolName} ${what.replace(/\s+/g, ' ')}`.trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
