import { createSignal } from 'solid-js';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/sdk/contracts';
import { call } from './api.js';

/** What the inbox keeps: the events a push notification would have told of. */
export const INBOX_EVENTS = ['approval.pending', 'session.turn_ended', 'session.exited'] as const;
const SIZE = 60;
const SEEN_KEY = 'codepiper.inbox.seen';

/** The newest notable events of every session, newest first. */
export async function loadInbox(): Promise<CodePiperEvent[]> {
  const lists = await Promise.all(INBOX_EVENTS.map(async (type) => (await call(eventEndpoints.list, { query: { type, limit: SIZE, newest: true } })).events));
  return lists.flat().sort((a, b) => b.id - a.id).slice(0, SIZE);
}

/** The newest event the inbox was opened on, on this device: those after it are unread. */
const [seen, setSeen] = createSignal(Number(localStorage.getItem(SEEN_KEY) ?? 0));
export { seen };

export function markSeen(events: readonly CodePiperEvent[]): void {
  const newest = Math.max(seen(), ...events.map((event) => event.id));
  localStorage.setItem(SEEN_KEY, String(newest));
  setSeen(newest);
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** One notice in words, as its push notification would say it. */
export function describeNotice(event: CodePiperEvent, sessionName: string): string {
  const p = (event.payload ?? {}) as Record<string, unknown>;
  if (event.type === 'approval.pending') return `${sessionName} asks to use ${text(p.tool)}`;
  if (event.type === 'session.turn_ended') return `${sessionName} finished its turn`;
  const code = typeof p.exitCode === 'number' ? ` with exit code ${p.exitCode}` : '';
  return `${sessionName} ${p.status === 'crashed' ? 'crashed' : 'exited'}${code}`;
}
