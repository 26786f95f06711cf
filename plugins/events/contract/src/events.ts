import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, defineLinesEndpoint, defineSocketEndpoint, defineParallelHook, IsoTime, Nullable, createServiceRef } from '@codepiper/sdk';

/**
 * One event model: everything that happens (agent hooks, state changes,
 * decisions) is an event with a type, a session, a time and a payload,
 * stored once and then published.
 */
export const EventSchema = Type.Object({
  id: Type.Integer({ description: 'Monotonic; use it as a cursor' }),
  sessionId: Nullable(Type.String()),
  type: Type.String({ description: 'Dotted, e.g. session.status' }),
  ts: IsoTime,
  source: Type.String({ description: 'The plugin that recorded it' }),
  payload: Type.Unknown(),
});
export type CodePiperEvent = Static<typeof EventSchema>;

export interface NewEvent {
  sessionId: string | null;
  type: string;
  payload: unknown;
}

export interface EventQuery {
  sessionId?: string;
  /** Only events with an id greater than this. */
  after?: number;
  /** Exact type or a `prefix.*` pattern. */
  type?: string;
  limit?: number;
  /** The newest `limit` events, newest first (default: oldest first). */
  newest?: boolean;
}

export type EventListener = (event: CodePiperEvent) => void;

export interface EventLog {
  /** Stores the event, then publishes it to subscribers and the `events.appended` hook. */
  append(event: NewEvent, source: string): Promise<CodePiperEvent>;
  list(query: EventQuery): Promise<CodePiperEvent[]>;
  /**
   * Every stored event matching the query (its `limit` and `newest` are
   * ignored), oldest first, as JSON lines in chunks of many: the form a long
   * listing is sent in, made by SQLite as UTF-8 bytes without an object or a
   * string per event.
   */
  lines(query: EventQuery): AsyncIterable<Uint8Array>;
  /** The id of the newest stored event (0 when there is none): a cursor for "what happens from now on". */
  latestId(): Promise<number>;
  /** Live events matching the query (its `after` and `limit` are ignored). Returns an unsubscribe function. */
  subscribe(query: EventQuery, listener: EventListener): () => void;
}

/** The events contract: the event log service and its hook. Its version moves with what it promises: a major version for a change that breaks its users. */
export const EVENTS_CONTRACT = '1.0.0';

export const eventLogRef = createServiceRef<EventLog>('events.log', 'Append, query and subscribe to events', EVENTS_CONTRACT);

export const eventAppended = defineParallelHook<CodePiperEvent>({
  name: 'events.appended',
  owner: 'events',
  payload: 'CodePiperEvent',
  description: 'After an event is stored. Notification: a failing tap never affects the others or the writer.',
});

export const EventsQuerySchema = Type.Object({
  session: Type.Optional(Type.String({ description: 'Full session id' })),
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  type: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]+(\\.\\*)?$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 500 })),
  newest: Type.Optional(Type.Boolean({ description: 'The newest `limit` events, newest first' })),
});

export const eventEndpoints = {
  list: defineEndpoint({
    method: 'GET',
    url: '/events',
    summary: 'Stored events, oldest first',
    tags: ['events'],
    query: EventsQuerySchema,
    response: Type.Object({ events: Type.Array(EventSchema) }),
  }),
  lines: defineLinesEndpoint({
    url: '/events/lines',
    summary: 'Every stored event, oldest first, as JSON lines (one event a line): for long listings',
    tags: ['events'],
    query: Type.Omit(EventsQuerySchema, ['limit', 'newest']),
    line: EventSchema,
  }),
  stream: defineSocketEndpoint({
    url: '/events/stream',
    summary: 'Stored events after `after` (if given), then every new event as it is recorded, one JSON object a message',
    tags: ['events'],
    query: Type.Omit(EventsQuerySchema, ['limit', 'newest']),
  }),
};
