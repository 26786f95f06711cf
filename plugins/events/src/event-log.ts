import type { CodePiperEvent, EventListener, EventLog, EventQuery, Logger, NewEvent, Store } from '@codepiper/sdk';

interface EventRow {
  id: number;
  session_id: string | null;
  type: string;
  ts: string;
  source: string;
  payload: string;
}

const toEvent = (row: EventRow): CodePiperEvent => ({
  id: row.id,
  sessionId: row.session_id,
  type: row.type,
  ts: row.ts,
  source: row.source,
  payload: JSON.parse(row.payload) as unknown,
});

/** `session.*` matches `session.status`; anything else matches exactly. */
function typeMatcher(pattern: string | undefined): (type: string) => boolean {
  if (!pattern) return () => true;
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -1);
    return (type) => type.startsWith(prefix);
  }
  return (type) => type === pattern;
}

interface Subscription {
  sessionId: string | undefined;
  matchesType: (type: string) => boolean;
  listener: EventListener;
}

/** Events stored in SQLite, then published in the order they were stored. */
export class SqliteEventLog implements EventLog {
  private readonly subscriptions = new Set<Subscription>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly onAppended: (event: CodePiperEvent) => void,
  ) {}

  async append(event: NewEvent, source: string): Promise<CodePiperEvent> {
    const ts = new Date().toISOString();
    const payload = JSON.stringify(event.payload ?? null);
    const { lastID } = await this.store.run('INSERT INTO events (session_id, type, ts, source, payload) VALUES (?, ?, ?, ?, ?)', [
      event.sessionId,
      event.type,
      ts,
      source,
      payload,
    ]);
    const stored: CodePiperEvent = { id: lastID, sessionId: event.sessionId, type: event.type, ts, source, payload: JSON.parse(payload) as unknown };
    this.publish(stored);
    return stored;
  }

  async list(query: EventQuery): Promise<CodePiperEvent[]> {
    const where: string[] = ['id > ?'];
    const params: (string | number)[] = [query.after ?? 0];
    if (query.sessionId) {
      where.push('session_id = ?');
      params.push(query.sessionId);
    }
    if (query.type?.endsWith('.*')) {
      where.push("type >= ? AND type < ?");
      const prefix = query.type.slice(0, -1);
      params.push(prefix, prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1));
    } else if (query.type) {
      where.push('type = ?');
      params.push(query.type);
    }
    params.push(query.limit ?? 500);
    const rows = await this.store.all<EventRow>(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY id ${query.newest ? 'DESC' : 'ASC'} LIMIT ?`, params);
    return rows.map(toEvent);
  }

  async latestId(): Promise<number> {
    return (await this.store.get<{ id: number }>('SELECT coalesce(max(id), 0) AS id FROM events'))?.id ?? 0;
  }

  subscribe(query: EventQuery, listener: EventListener): () => void {
    const subscription: Subscription = { sessionId: query.sessionId, matchesType: typeMatcher(query.type), listener };
    this.subscriptions.add(subscription);
    return () => this.subscriptions.delete(subscription);
  }

  private publish(event: CodePiperEvent): void {
    for (const s of this.subscriptions) {
      if ((s.sessionId && s.sessionId !== event.sessionId) || !s.matchesType(event.type)) continue;
      try {
        s.listener(event);
      } catch (error) {
        this.log.error({ err: error, eventType: event.type }, 'event subscriber failed');
      }
    }
    this.onAppended(event);
  }
}
