import { approvalEndpoints } from '@codepiper/policies-contract';
import { expandUrl } from '@codepiper/sdk';
import { GIT_EVENTS } from '@codepiper/worktrees-contract';
import { TURN_ENDED_EVENT } from '@codepiper/sessions-contract';
import type { CodePiperEvent } from '@codepiper/events-contract';
import type { NotificationKind, PushPayload } from '@codepiper/notifications-contract';

/** Longest body a notice carries; phones show two or three lines anyway. */
export const MAX_BODY = 200;

export interface Notice {
  kind: NotificationKind;
  sessionId: string;
  /** The push service replaces an undelivered notice with a newer one of the same key: the session's, or the question's own. */
  key: string;
  /** Whether it is a session starting to wait, sent only if no question of the session follows at once. */
  waiting?: true;
  /** Builds the message once the session's name is known. */
  payload(sessionName: string): PushPayload;
}

const record = (payload: unknown): Record<string, unknown> => (typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {});
const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);

export function cut(body: string, max = MAX_BODY): string {
  const flat = body.replace(/\s+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

function exitBody(payload: Record<string, unknown>): string {
  const code = typeof payload.exitCode === 'number' ? `exit code ${payload.exitCode}` : null;
  const crashed = payload.status === 'crashed' ? 'crashed' : null;
  return [crashed ?? code, text(payload.detail)].filter((part) => part !== null).join(': ') || 'ended';
}

/** A tool call in one line: the tool and its command, file, path, URL or pattern. */
export function describeCall(tool: string, input: unknown): string {
  const fields = record(input);
  const what = text(fields.command) ?? text(fields.file_path) ?? text(fields.path) ?? text(fields.url) ?? text(fields.pattern) ?? (input == null ? '' : JSON.stringify(input));
  return cut(`${tool} ${what}`.trim());
}

function questionNotice(sessionId: string, payload: Record<string, unknown>): Notice | undefined {
  const id = text(payload.id);
  if (!id) return undefined;
  const tool = text(payload.tool) ?? 'a tool';
  const description = describeCall(tool, payload.input);
  const answer = (endpoint: typeof approvalEndpoints.approve | typeof approvalEndpoints.deny) => expandUrl(endpoint.url, { id }, undefined);
  return {
    kind: 'permission',
    sessionId,
    key: id,
    payload: (name) => ({
      title: `${name} asks to use ${tool}`,
      body: description,
      tag: `approval-${id}`,
      url: `/#/sessions/${sessionId}`,
      approval: { id, sessionId, tool, description, approveUrl: answer(approvalEndpoints.approve), denyUrl: answer(approvalEndpoints.deny) },
      actions: [
        { action: 'approve', title: 'Approve' },
        { action: 'deny', title: 'Deny' },
      ],
    }),
  };
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** What a user is told about an event, if anything: a question (pending approval), a permission wait, a finished turn, an exit, or work to review. */
export function noticeFor(event: CodePiperEvent): Notice | undefined {
  const sessionId = event.sessionId;
  if (sessionId === null) return undefined;
  const payload = record(event.payload);
  const notice = (kind: NotificationKind, title: (name: string) => string, body: string): Notice => ({
    kind,
    sessionId,
    key: sessionId,
    payload: (name) => ({ title: title(name), body: cut(body), tag: `session-${sessionId}`, url: `/#/sessions/${sessionId}` }),
  });
  switch (event.type) {
    case 'session.status':
      if (payload.to !== 'waiting') return undefined;
      return { ...notice('permission', (name) => `${name} waits for permission`, text(payload.detail) ?? 'permission'), waiting: true };
    case 'approval.pending':
      return questionNotice(sessionId, payload);
    case TURN_ENDED_EVENT: {
      const error = text(payload.error);
      return notice('turn', (name) => `${name} finished its turn`, error ? `error: ${error}` : (text(payload.lastMessage) ?? 'ready for the next prompt'));
    }
    case 'session.exited':
      return notice('exit', (name) => `${name} exited`, exitBody(payload));
    case GIT_EVENTS.changed:
      // Same key and tag as the turn's end it follows: the phone shows one notice, this one.
      return notice('review', (name) => `${name} is ready to review`, `${plural(Number(payload.files), 'file')} changed, +${Number(payload.added)} −${Number(payload.removed)}`);
    default:
      return undefined;
  }
}
