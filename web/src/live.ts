import { onCleanup } from 'solid-js';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/events-contract';
import { openSocket } from './api.js';

type Listener = (event: CodePiperEvent) => void;

const listeners = new Set<Listener>();
let socket: WebSocket | undefined;
let lastId: number | undefined;
let retryMs = 500;
let retry: ReturnType<typeof setTimeout> | undefined;

/**
 * One event stream for the whole app (pushed by the daemon, never polled).
 * After a drop it reconnects from the last event it saw, so nothing is missed.
 */
function connect(): void {
  clearTimeout(retry);
  retry = undefined;
  socket = openSocket(eventEndpoints.stream, undefined, lastId === undefined ? {} : { after: lastId });
  socket.onmessage = (message) => {
    const event = JSON.parse(String(message.data)) as CodePiperEvent;
    lastId = event.id;
    retryMs = 500;
    for (const listener of listeners) listener(event);
  };
  socket.onclose = () => {
    socket = undefined;
    if (listeners.size > 0) retry = setTimeout(connect, (retryMs = Math.min(retryMs * 2, 10_000)));
  };
}

/** Calls `listener` with every new event whose type starts with one of `prefixes`, while the calling component lives. */
export function onEvents(prefixes: readonly string[], listener: Listener): void {
  const filtered: Listener = (event) => {
    if (prefixes.some((prefix) => event.type.startsWith(prefix))) listener(event);
  };
  listeners.add(filtered);
  if (!socket && !retry) connect();
  onCleanup(() => listeners.delete(filtered));
}

/** Runs `fn` at most once per `ms`, at the end of a burst (many events, one refetch). */
export function debounce(fn: () => void, ms = 150): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}
