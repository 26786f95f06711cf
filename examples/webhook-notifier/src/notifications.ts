import { TURN_ENDED_EVENT, type SessionRecord } from '@codepiper/sessions-contract';
import type { CodePiperEvent } from '@codepiper/events-contract';

/** The moments a user can be told about. */
export const NOTIFICATION_KINDS = ['waiting', 'turn_ended', 'exited'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** What the webhook receives (JSON). */
export interface Notification {
  kind: NotificationKind;
  /** One line for a chat message. */
  text: string;
  session: Pick<SessionRecord, 'id' | 'name' | 'provider' | 'cwd'>;
  event: CodePiperEvent;
}

/** Which kind of notification `event` is, if it is one. */
export function kindOf(event: CodePiperEvent): NotificationKind | undefined {
  switch (event.type) {
    case 'session.status':
      return (event.payload as { to?: string }).to === 'waiting' ? 'waiting' : undefined;
    case TURN_ENDED_EVENT:
      return 'turn_ended';
    case 'session.exited':
      return 'exited';
    default:
      return undefined;
  }
}

export function notificationText(kind: NotificationKind, session: Notification['session'], event: CodePiperEvent): string {
  const payload = event.payload as { detail?: string | null; exitCode?: number | null; status?: string; lastMessage?: string | null };
  switch (kind) {
    case 'waiting':
      return `${session.name} is waiting${payload.detail ? ` for ${payload.detail}` : ''}`;
    case 'turn_ended':
      return `${session.name} finished its turn${payload.lastMessage ? `: ${payload.lastMessage}` : ''}`;
    case 'exited':
      return payload.exitCode == null ? `${session.name} ended (${payload.status})` : `${session.name} exited with code ${payload.exitCode}`;
  }
}
