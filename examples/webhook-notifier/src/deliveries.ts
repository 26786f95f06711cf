import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, type Migration, type Store } from '@codepiper/sdk';
import type { DeliveryOutcome } from './deliver.js';
import type { Notification } from './notifications.js';

/** The plugin's own table; versions are numbered per plugin and each runs once. */
export const migrations: Migration[] = [
  {
    version: 1,
    name: 'webhook deliveries',
    up: `CREATE TABLE webhook_deliveries (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           event_id INTEGER NOT NULL,
           session_id TEXT NOT NULL,
           kind TEXT NOT NULL,
           delivered INTEGER NOT NULL,
           attempts INTEGER NOT NULL,
           error TEXT,
           ts TEXT NOT NULL
         )`,
  },
];

const DeliverySchema = Type.Object({
  eventId: Type.Integer(),
  sessionId: Type.String(),
  kind: Type.String(),
  delivered: Type.Boolean(),
  attempts: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  ts: Type.String({ format: 'date-time' }),
});
export type Delivery = Static<typeof DeliverySchema>;

/** `GET /webhook-notifier/deliveries`: what was posted, newest first. Any client calls it, typed, with `ApiClient.call(deliveriesEndpoint)`. */
export const deliveriesEndpoint = defineEndpoint({
  method: 'GET',
  url: '/webhook-notifier/deliveries',
  summary: 'Webhook deliveries, newest first',
  tags: ['webhook-notifier'],
  query: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) }),
  response: Type.Object({ deliveries: Type.Array(DeliverySchema) }),
});

interface Row {
  event_id: number;
  session_id: string;
  kind: string;
  delivered: number;
  attempts: number;
  error: string | null;
  ts: string;
}

export async function recordDelivery(store: Store, notification: Notification, outcome: DeliveryOutcome): Promise<void> {
  await store.run('INSERT INTO webhook_deliveries (event_id, session_id, kind, delivered, attempts, error, ts) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    notification.event.id,
    notification.session.id,
    notification.kind,
    outcome.delivered ? 1 : 0,
    outcome.attempts,
    outcome.error,
    new Date().toISOString(),
  ]);
}

export async function listDeliveries(store: Store, limit: number): Promise<Delivery[]> {
  const rows = await store.all<Row>('SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT ?', [limit]);
  return rows.map((row) => ({
    eventId: row.event_id,
    sessionId: row.session_id,
    kind: row.kind,
    delivered: row.delivered === 1,
    attempts: row.attempts,
    error: row.error,
    ts: row.ts,
  }));
}
