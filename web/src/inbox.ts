import { createContext, createResource, createSignal, useContext, type Resource } from 'solid-js';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/events-contract';
import { call } from './api.js';
import { debounce, onEvents } from './live.js';
import { ending, text } from './timeline.js';

/** What the inbox keeps: the events a push notification would have told of. */
export const INBOX_EVENTS = ['approval.pending', 'session.turn_ended', 'session.exited'] as const;
export const INBOX_SIZE = 60;
const SEEN_KEY = 'codepiper.inbox.seen';

/** The newest notable events of every session, newest first. */
async function loadInbox(): Promise<CodePiperEvent[]> {
  const lists = await Promise.all(INBOX_EVENTS.map(async (type) => (await call(eventEndpoints.list, { query: { type, limit: INBOX_SIZE, newest: true } })).events));
  return lists.flat().sort((a, b) => b.id - a.id).slice(0, INBOX_SIZE);
}

export interface Inbox {
  notices: Resource<CodePiperEvent[]>;
}

/** The signed-in layout's inbox, kept current; the navigation's count and the Inbox page read the same one (see `useInbox`). */
export function createInbox(): Inbox {
  const [notices, { refetch }] = createResource(loadInbox);
  onEvents(INBOX_EVENTS, debounce(() => void refetch()));
  return { notices };
}

export const InboxContext = createContext<Inbox>();

export function useInbox(): Inbox {
  const inbox = useContext(InboxContext);
  if (!inbox) throw new Error('the inbox is provided by the signed-in layout');
  return inbox;
}

/** The newest event the inbox was opened on, on this device: those after it are unread. */
const [seen, setSeen] = createSignal(Number(localStorage.getItem(SEEN_KEY) ?? 0));
export { seen };

export function markSeen(events: readonly CodePiperEvent[]): void {
  const newest = Math.max(seen(), ...events.map((event) => event.id));
  localStorage.setItem(SEEN_KEY, String(newest));
  setSeen(newest);
}

/** One notice in words, as its push notification would say it. */
export function describeNotice(event: CodePiperEvent, sessionName: string): string {
  const p = (event.payload ?? {}) as Record<string, unknown>;
  if (event.type === 'approval.pending') return `${sessionName} asks to use ${text(p.tool)}`;
  if (event.type === 'session.turn_ended') return `${sessionName} finished its turn`;
  return `${sessionName} ${ending(p)}`;
}
