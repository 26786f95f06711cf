import * as Type from '@sinclair/typebox';
import { definePlugin } from '@codepiper/sdk';
import { eventAppended, eventEndpoints, eventLogRef } from '@codepiper/events-contract';
import { SqliteEventLog } from './event-log.js';
import { keepEventsFor } from './retention.js';
import { streamEvents } from './stream.js';

export { SqliteEventLog } from './event-log.js';

export default definePlugin({
  name: 'events',
  api: '^1.0.0',
  description: 'The event log: every event stored once in SQLite, then published to subscribers and the events.appended hook',
  provides: [eventLogRef],
  config: Type.Object({
    keep_days: Type.Integer({ minimum: 0, maximum: 36_500, default: 90, description: 'Events older than this many days are removed (0 keeps them all); the audit trail and the usage ledger are kept apart and stay' }),
  }),
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

    let log: SqliteEventLog | undefined;
    // Made once the store is open (from start on).
    const eventLog = (): SqliteEventLog =>
      (log ??= new SqliteEventLog(ctx.store, ctx.log, (event) => {
        // A notification: taps cannot fail the writer, and the writer does not wait for them.
        void ctx.hooks.call(eventAppended, event);
      }));
    ctx.services.provide(eventLogRef, eventLog);

    ctx.api.handle(eventEndpoints.list, async ({ query }) => {
      const events = await eventLog().list({ sessionId: query.session, after: query.after, type: query.type, limit: query.limit, newest: query.newest });
      return { events };
    });

    ctx.api.handleLines(eventEndpoints.lines, async ({ query }) => eventLog().lines({ sessionId: query.session, after: query.after, type: query.type }));

    ctx.api.handleSocket(eventEndpoints.stream, (socket, { query }) =>
      streamEvents(socket, eventLog(), { sessionId: query.session, after: query.after, type: query.type }),
    );

    let stopKeeping: (() => void) | undefined;
    return {
      start() {
        if (ctx.config.keep_days > 0) stopKeeping = keepEventsFor(ctx.config.keep_days, eventLog(), ctx.log);
      },
      stop() {
        stopKeeping?.();
      },
    };
  },
});
