import { randomUUID } from 'node:crypto';
import type { Migration, Store } from '@codepiper/sdk';
import type { PushSubscriptionJson } from '@codepiper/notifications-contract';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'push subscriptions and muted sessions',
    up: `CREATE TABLE push_subscriptions (
           id TEXT PRIMARY KEY,
           endpoint TEXT NOT NULL UNIQUE,
           p256dh TEXT NOT NULL,
           auth TEXT NOT NULL,
           created_at TEXT NOT NULL,
           updated_at TEXT NOT NULL
         );
         CREATE TABLE push_mutes (
           session_id TEXT PRIMARY KEY,
           muted_at TEXT NOT NULL
         );`,
  },
];

export interface StoredSubscription extends PushSubscriptionJson {
  id: string;
}

interface SubscriptionRow {
  id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** Push subscriptions (one per browser endpoint) and muted sessions, in SQLite. */
export class NotificationStore {
  constructor(private readonly store: Store) {}

  /** Stores a subscription; the same endpoint again gets its new keys and keeps its id. */
  async subscribe(subscription: PushSubscriptionJson): Promise<string> {
    const now = new Date().toISOString();
    const row = await this.store.get<{ id: string }>(
      `INSERT INTO push_subscriptions (id, endpoint, p256dh, auth, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, updated_at = excluded.updated_at
       RETURNING id`,
      [randomUUID(), subscription.endpoint, subscription.keys.p256dh, subscription.keys.auth, now, now],
    );
    return row!.id;
  }

  async unsubscribe(endpoint: string): Promise<number> {
    return (await this.store.run('DELETE FROM push_subscriptions WHERE endpoint = ?', [endpoint])).changes;
  }

  /** Removes a subscription the push service said is gone, unless it was renewed with new keys meanwhile. */
  async forget(subscription: StoredSubscription): Promise<void> {
    await this.store.run('DELETE FROM push_subscriptions WHERE id = ? AND p256dh = ? AND auth = ?', [subscription.id, subscription.keys.p256dh, subscription.keys.auth]);
  }

  async subscriptions(): Promise<StoredSubscription[]> {
    const rows = await this.store.all<SubscriptionRow>('SELECT id, endpoint, p256dh, auth FROM push_subscriptions ORDER BY created_at');
    return rows.map((row) => ({ id: row.id, endpoint: row.endpoint, keys: { p256dh: row.p256dh, auth: row.auth } }));
  }

  async count(): Promise<number> {
    return (await this.store.get<{ n: number }>('SELECT count(*) AS n FROM push_subscriptions'))!.n;
  }

  async setMuted(sessionId: string, muted: boolean): Promise<void> {
    if (muted) await this.store.run('INSERT INTO push_mutes (session_id, muted_at) VALUES (?, ?) ON CONFLICT (session_id) DO NOTHING', [sessionId, new Date().toISOString()]);
    else await this.store.run('DELETE FROM push_mutes WHERE session_id = ?', [sessionId]);
  }

  async isMuted(sessionId: string): Promise<boolean> {
    return (await this.store.get('SELECT 1 FROM push_mutes WHERE session_id = ?', [sessionId])) !== undefined;
  }

  async mutes(): Promise<string[]> {
    return (await this.store.all<{ session_id: string }>('SELECT session_id FROM push_mutes ORDER BY muted_at, session_id')).map((row) => row.session_id);
  }
}
