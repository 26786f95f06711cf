import { TURN_ENDED_EVENT, type CodePiperEvent, type NotificationKind, type PushPayload } from '@codepiper/sdk';

/** Longest body a notice carries; phones show two or three lines anyway. */
export const MAX_BODY = 200;

export interface Notice {
  kind: NotificationKind;
  sessionId: string;
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

/** What a user is told about an event, if anything: a permission wait, a finished turn or an exit. */
export function noticeFor(event: CodePiperEvent): Notice | undefined {
  const sessionId = event.sessionId;
  if (sessionId === null) return undefined;
  const payload = record(event.payload);
  const notice = (kind: NotificationKind, title: (name: string) => string, body: string): Notice => ({
    kind,
    sessionId,
    payload: (name) => ({ title: title(name), body: cut(body), tag: `session-${sessionId}`, url: `/#/sessions/${sessionId}` }),
  });
  switch (event.type) {
    case 'session.status':
      if (payload.to !== 'waiting') return undefined;
      return notice('permission', (name) => `${name} waits for permission`, text(payload.detail) ?? 'permission');
    case TURN_ENDED_EVENT: {
      const error = text(payload.error);
      return notice('turn', (name) => `${name} finished its turn`, error ? `error: ${error}` : (text(payload.lastMessage) ?? 'ready for the next prompt'));
    }
    case 'session.exited':
      return notice('exit', (name) => `${name} exited`, exitBody(payload));
    default:
      return undefined;
  }
}
