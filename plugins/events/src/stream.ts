import type { CodePiperEvent, EventLog, EventQuery } from '@codepiper/events-contract';
import type { WebSocket } from '@codepiper/sdk';

/** Beyond this many unsent bytes a client is too slow to follow; it is told so and closed. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * Sends stored events after `query.after` (when given), then live ones, in
 * id order with none missed or repeated: live events that arrive while the
 * backlog is read are held and sent after it.
 */
export async function streamEvents(socket: WebSocket, events: EventLog, query: EventQuery): Promise<void> {
  let lastSent = query.after ?? 0;
  let held: CodePiperEvent[] | undefined = [];
  const send = (event: CodePiperEvent): void => {
    if (event.id <= lastSent) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      socket.close(1013, 'client too slow');
      return;
    }
    lastSent = event.id;
    socket.send(JSON.stringify(event));
  };
  const unsubscribe = events.subscribe(query, (event) => (held ? held.push(event) : send(event)));
  socket.on('close', unsubscribe);
  if (query.after !== undefined) {
    for (;;) {
      const page = await events.list({ ...query, after: lastSent, limit: 1000 });
      page.forEach(send);
      if (page.length < 1000) break;
    }
  }
  const backlog = held;
  held = undefined;
  backlog.forEach(send);
}
