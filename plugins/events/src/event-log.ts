import type { CodePiperEvent, EventListener, EventLog, EventQuery, NewEvent } from '@codepiper/events-contract';
import type { Logger, Store } from '@codepiper/sdk';

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

interface LinesPage {
  /** UTF-8: as a string it would be decoded from SQLite's bytes only to be encoded again for the socket. */
  text: Buffer;
  count: number;
  last: number;
}

/** Rows a page of `lines` reads at once: large enough that SQLite does the work, small enough to stream. */
const LINES_PAGE = 2000;

/** The WHERE clause (and its parameters) of the events `query` selects after the id `after`. */
function matching(query: EventQuery, after = query.after ?? 0): { where: string; params: (string | number)[] } {
  const where: string[] = ['id > ?'];
  const params: (string | number)[] = [after];
  if (query.sessionId) {
    where.push('session_id = ?');
    params.push(query.sessionId);
  }
  if (query.type?.endsWith('.*')) {
    where.push('type >= ? AND type < ?');
    const prefix = query.type.slice(0, -1);
    params.push(prefix, prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1));
  } else if (query.type) {
    where.push('type = ?');
    params.push(query.type);
  }
  return { where: where.join(' AND '), params };
}

/** An event given to `append`, waiting to be stored. */
interface Waiting {
  row: Omit<CodePiperEvent, 'id' | 'payload'> & { payload: string };
  resolve: (event: CodePiperEvent) => void;
  reject: (error: unknown) => void;
}

/** Events stored by one statement at most: 5 parameters each, far below SQLite's limit on parameters. */
const MAX_BATCH = 500;

/** The oldest events one removing statement reads (and removes at most). */
const REMOVE_BATCH = 5000;

interface Subscription {
  sessionId: string | undefined;
  matchesType: (type: string) => boolean;
  listener: EventListener;
}

/** Events stored in SQLite, then published in the order they were stored. */
export class SqliteEventLog implements EventLog {
  private readonly subscriptions = new Set<Subscription>();
  /** Appends that came while a statement was storing others: stored together by the next one. */
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly onAppended: (event: CodePiperEvent) => void,
  ) {}

  /**
   * Stores the event, then publishes it. An append waits for no other: the
   * appends made in the same turn are stored together, in one statement, and
   * one that comes while a statement is storing earlier ones is stored with
   * the others that came meanwhile (a burst, such as a restart adopting
   * hundreds of sessions, costs a statement or a few, not one each).
   */
  append(event: NewEvent, source: string): Promise<CodePiperEvent> {
    const row = { sessionId: event.sessionId, type: event.type, ts: new Date().toISOString(), source, payload: JSON.stringify(event.payload ?? null) };
    return new Promise((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      void this.writeWaiting();
    });
  }

  async list(query: EventQuery): Promise<CodePiperEvent[]> {
    const { where, params } = matching(query);
    const rows = await this.store.all<EventRow>(`SELECT * FROM events WHERE ${where} ORDER BY id ${query.newest ? 'DESC' : 'ASC'} LIMIT ?`, [...params, query.limit ?? 500]);
    return rows.map(toEvent);
  }

  async *lines(query: EventQuery): AsyncGenerator<Buffer> {
    // SQLite works on the next page (on its own thread) while this one is sent.
    let next: Promise<LinesPage | undefined> | undefined = this.linesPage(query, query.after ?? 0);
    try {
      while (next) {
        const page: LinesPage | undefined = await next;
        if (!page) return;
        next = page.count === LINES_PAGE ? this.linesPage(query, page.last) : undefined;
        yield page.text;
      }
    } finally {
      // A client that went away leaves a page being read: its outcome no longer matters.
      next?.catch(() => undefined);
    }
  }

  /** Up to LINES_PAGE events after `after`, as JSON lines made by SQLite. */
  private async linesPage(query: EventQuery, after: number): Promise<LinesPage | undefined> {
    const { where, params } = matching(query, after);
    // A stored payload is JSON.stringify's output already, so it goes into the line as it is. The inner
    // query's ORDER BY and LIMIT make it a co-routine that hands over its rows in order, which group_concat
    // keeps; an ORDER BY inside group_concat would sort them all again (twice the time).
    const page = await this.store.get<{ text: Buffer | null; count: number; last: number | null }>(
      `SELECT CAST(group_concat(line, char(10)) || char(10) AS BLOB) AS text, count(*) AS count, max(id) AS last FROM (
         SELECT id, '{"id":' || id || ',"sessionId":' || json_quote(session_id) || ',"type":' || json_quote(type) || ',"ts":' || json_quote(ts)
           || ',"source":' || json_quote(source) || ',"payload":' || payload || '}' AS line
         FROM events WHERE ${where} ORDER BY id LIMIT ?)`,
      [...params, LINES_PAGE],
    );
    return page?.text && page.last !== null ? { text: page.text, count: page.count, last: page.last } : undefined;
  }

  async latestId(): Promise<number> {
    return (await this.store.get<{ id: number }>('SELECT coalesce(max(id), 0) AS id FROM events'))?.id ?? 0;
  }

  /**
   * Removes the events stored before `cutoff`, oldest first, a batch per
   * statement so that appends wait for one batch at most. Each statement
   * reads only the oldest events (by id): with none to remove, that is one
   * short read, however long the log. Ids are never given again
   * (AUTOINCREMENT): a reader's `after` stays valid.
   */
  async removeBefore(cutoff: Date): Promise<number> {
    let removed = 0;
    for (;;) {
      const { changes } = await this.store.run('DELETE FROM events WHERE id IN (SELECT id FROM (SELECT id, ts FROM events ORDER BY id LIMIT ?) WHERE ts < ?)', [REMOVE_BATCH, cutoff.toISOString()]);
      removed += changes;
      if (changes === 0) return removed;
    }
  }

  subscribe(query: EventQuery, listener: EventListener): () => void {
    const subscription: Subscription = { sessionId: query.sessionId, matchesType: typeMatcher(query.type), listener };
    this.subscriptions.add(subscription);
    return () => this.subscriptions.delete(subscription);
  }

  /** Stores what waits, a statement at a time, until nothing does; each event is published once stored, in the order of its id. */
  private async writeWaiting(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      // The appends made in the same turn as this one (a restart adopting its sessions makes hundreds) are stored with
      // it: the first write of a start reads cold pages, and paid that again for all the rest.
      await Promise.resolve();
      while (this.waiting.length > 0) await this.storeBatch(this.waiting.splice(0, MAX_BATCH));
    } finally {
      this.writing = false;
    }
  }

  /** Stores the batch in one statement; one refused stores nothing, and its events are tried one by one, so that each fails only for itself. */
  private async storeBatch(batch: Waiting[]): Promise<void> {
    try {
      const stored = await this.insert(batch.map((waiting) => waiting.row));
      batch.forEach((waiting, i) => {
        this.publish(stored[i]!);
        waiting.resolve(stored[i]!);
      });
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      else for (const waiting of batch) await this.storeBatch([waiting]);
    }
  }

  private async insert(rows: Waiting['row'][]): Promise<CodePiperEvent[]> {
    const values = rows.map(() => '(?, ?, ?, ?, ?)').join(', ');
    const { lastID } = await this.store.run(
      `INSERT INTO events (session_id, type, ts, source, payload) VALUES ${values}`,
      rows.flatMap((row) => [row.sessionId, row.type, row.ts, row.source, row.payload]),
    );
    // One statement's rows take consecutive ids (AUTOINCREMENT, one connection), in the order of its VALUES.
    const first = lastID - rows.length + 1;
    return rows.map((row, i) => ({ ...row, id: first + i, payload: JSON.parse(row.payload) as unknown }));
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
