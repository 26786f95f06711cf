import type { CodePiperEvent } from '@codepiper/events-contract';
import { describeInput } from './components/Approval.jsx';

/** Longest line a timeline entry shows. */
const MAX_LENGTH = 160;

type Fields = Record<string, unknown>;

export const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));
const cut = (line: string): string => (line.length > MAX_LENGTH ? `${line.slice(0, MAX_LENGTH - 1)}…` : line);

/** How a session ended, from `session.exited`'s payload. */
export const ending = (p: Fields): string => {
  const code = typeof p.exitCode === 'number' ? `with exit code ${p.exitCode}` : '';
  return [p.status === 'crashed' ? 'crashed' : 'exited', code, p.detail ? `(${text(p.detail)})` : ''].filter(Boolean).join(' ');
};

/** What each kind of event says, in words; others are shown as their fields. */
const DESCRIBE: Record<string, (p: Fields) => string> = {
  'session.started': (p) => `started ${text(p.provider)} in ${text(p.cwd)}`,
  'session.status': (p) => `${text(p.from)} → ${text(p.to)}${p.detail ? `: ${text(p.detail)}` : ''}`,
  'session.exited': ending,
  'session.turn_ended': () => 'the agent finished its turn',
  'session.adopted': () => 'picked up again after a daemon restart',
  'session.resumed': () => 'resumed',
  'session.renamed': (p) => `renamed from ${text(p.from)} to ${text(p.to)}`,
  'approval.pending': (p) => `asks a person: ${text(p.tool)} ${describeInput(p.input)}`,
  'approval.answered': (p) => `${text(p.status)}${p.answeredBy ? ` by ${text(p.answeredBy)}` : ''}: ${text(p.tool)}`,
  'policy.bypassed': (p) => `runs WITHOUT POLICIES from now on (asked by ${text(p.by)})`,
  'policy.bypass_ended': (p) => `under the policies again (asked by ${text(p.by)})`,
  'git.changed': (p) => `its worktree: ${text(p.files)} files changed, +${text(p.added)} −${text(p.removed)}`,
  'git.merged': (p) => `merged into ${text(p.into)}`,
  'git.discarded': (p) => `its worktree and branch ${text(p.branch)} discarded`,
  'policy.decision': (p) => `${text(p.decision)} ${text(p.tool)}${p.policy ? ` (policy ${text(p.policy)})` : ''}`,
  'claude.SessionStart': (p) => `Claude Code started${p.source ? ` (${text(p.source)})` : ''}`,
  'claude.UserPromptSubmit': (p) => `prompt: ${text(p.prompt)}`,
  'claude.PreToolUse': (p) => `Claude calls ${text(p.tool_name)}: ${describeInput(p.tool_input)}`,
  'claude.PostToolUse': (p) => `${text(p.tool_name)} done`,
  'claude.PermissionRequest': (p) => `Claude asks permission for ${text(p.tool_name)}`,
  'claude.Notification': (p) => text(p.message),
  'claude.Stop': () => 'Claude finished its turn',
  'codex.tool_call': (p) => `Codex calls ${text(p.name)}`,
  'codex.task_complete': (p) => `Codex finished its turn${p.lastAgentMessage ? `: ${text(p.lastAgentMessage)}` : ''}`,
  model_switch: (p) => `model ${text(p.from)} → ${text(p.to)}`,
};

const fields = (payload: unknown): Fields => (payload && typeof payload === 'object' ? (payload as Fields) : {});

/** One line, in words, for an event of a session's timeline. */
export function describeEvent(event: Pick<CodePiperEvent, 'type' | 'payload'>): string {
  const describe = DESCRIBE[event.type];
  if (describe) return cut(describe(fields(event.payload)));
  const raw = Object.entries(fields(event.payload))
    .map(([key, value]) => `${key}=${text(value)}`)
    .join(' ');
  return cut(raw || text(event.payload));
}
