import { definePlugin } from '@codepiper/sdk';
import { eventAppended, eventEndpoints, eventLogRef } from '@codepiper/events-contract';
import { SqliteEventLog } from './event-log.js';
import { streamEvents } from './stream.js';

export { SqliteEventLog } from './event-log.js';

export default definePlugin({
  name: 'events',
  api: '^1.0.0',
  description: 'The event log: every event stored once in SQLite, then published to subscribers and the events.appended hook',
  provides: [eventLogRef],
  register(ctx) {
    ctx.migrations([
      {
        version: 1,
        name: 'events table',
        up: `CREATE TABLE events (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               session_id TEXT,
               type TEXT NOT NULL,
               ts TEXT NOT NULL,
               source TEXT NOT NULL,
               payload TEXT NOT NULL
             );
             CREATE INDEX events_by_session ON events (session_id, id);
             CREATE INDEX events_by_type ON events (type, id);`,
      },
    ]);

    ctx.services.provide(
      eventLogRef,
      () =>
        new SqliteEventLog(ctx.store, ctx.log, (event) => {
          // A notification: taps cannot fail the writer, and the writer does not wait for them.
          void ctx.hooks.call(eventAppended, event);
        }),
    );

    ctx.api.handle(eventEndpoints.list, async ({ query }) => {
      const events = await ctx.services.get(eventLogRef).list({ sessionId: query.session, after: query.after, type: query.type, limit: query.limit, newest: query.newest });
      return { events };
    });

    ctx.api.handleLines(eventEndpoints.lines, async ({ query }) => ctx.services.get(eventLogRef).lines({ sessionId: query.session, after: query.after, type: query.type }));

    ctx.api.handleSocket(eventEndpoints.stream, (socket, { query }) =>
      streamEvents(socket, ctx.services.get(eventLogRef), { sessionId: query.session, after: query.after, type: query.type }),
    );
  },
});
