import { watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { EventLog, Logger, Migration, SessionDirectory, Store } from '@codepiper/sdk';
import { modelOf, parseLine, usageOf, type UsageRow } from './transcript.js';

export const SOURCE = 'provider-claude-code';

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'transcript offsets and usage',
    up: `CREATE TABLE claude_transcripts (
           session_id TEXT PRIMARY KEY,
           path TEXT NOT NULL,
           offset INTEGER NOT NULL,
           inode TEXT
         );
         CREATE TABLE claude_usage (
           session_id TEXT NOT NULL,
           message_id TEXT NOT NULL,
           request_id TEXT NOT NULL,
           model TEXT,
           input_tokens INTEGER NOT NULL,
           output_tokens INTEGER NOT NULL,
           cache_creation_5m INTEGER NOT NULL,
           cache_creation_1h INTEGER NOT NULL,
           cache_read_tokens INTEGER NOT NULL,
           ts TEXT,
           PRIMARY KEY (message_id, request_id)
         );
         CREATE INDEX claude_usage_by_session ON claude_usage (session_id);`,
  },
];

interface Tail {
  sessionId: string;
  path: string;
  watcher?: FSWatcher;
  watching?: string;
  running?: Promise<void>;
  again: boolean;
  closed: boolean;
}

export interface TailerDeps {
  store: () => Store;
  events: () => EventLog;
  sessions: () => SessionDirectory;
  log: Logger;
}

/**
 * Follows each live session's transcript as it grows: pushed by fs.watch and
 * by every hook event; offsets live in SQLite so a daemon restart resumes
 * where it stopped. A partial last line waits for its newline; a truncated or
 * replaced file is read again from the start (usage rows are idempotent).
 */
export class TranscriptTailer {
  private readonly tails = new Map<string, Tail>();

  constructor(private readonly deps: TailerDeps) {}

  /** Starts (or re-points) following a session's transcript, and reads what is there. */
  follow(sessionId: string, file: string): Promise<void> {
    let tail = this.tails.get(sessionId);
    if (tail && tail.path !== file) {
      this.unwatch(tail);
      tail.path = file;
    }
    if (!tail) {
      tail = { sessionId, path: file, again: false, closed: false };
      this.tails.set(sessionId, tail);
    }
    return this.poke(sessionId);
  }

  /** Reads whatever was appended; concurrent pokes coalesce into one more read. */
  poke(sessionId: string): Promise<void> {
    const tail = this.tails.get(sessionId);
    if (!tail || tail.closed) return Promise.resolve();
    if (tail.running) {
      tail.again = true;
      return tail.running;
    }
    const run = async (): Promise<void> => {
      do {
        tail.again = false;
        try {
          await this.read(tail);
        } catch (error) {
          this.deps.log.warn({ err: error, session: sessionId }, 'reading the Claude Code transcript failed');
        }
      } while (tail.again && !tail.closed);
    };
    tail.running = run().finally(() => (tail.running = undefined));
    return tail.running;
  }

  /** A final read, then stops following the session. */
  async close(sessionId: string): Promise<void> {
    const tail = this.tails.get(sessionId);
    if (!tail) return;
    await this.poke(sessionId);
    tail.closed = true;
    this.unwatch(tail);
    this.tails.delete(sessionId);
  }

  closeAll(): void {
    for (const tail of this.tails.values()) {
      tail.closed = true;
      this.unwatch(tail);
    }
    this.tails.clear();
  }

  private unwatch(tail: Tail): void {
    tail.watcher?.close();
    tail.watcher = undefined;
    tail.watching = undefined;
  }

  /** Watches the file, or while it does not exist yet, its nearest existing ancestor directory. */
  private async watchFor(tail: Tail, exists: boolean): Promise<void> {
    let target = exists ? tail.path : path.dirname(tail.path);
    if (!exists) {
      while (!(await stat(target).then((s) => s.isDirectory(), () => false)) && path.dirname(target) !== target) target = path.dirname(target);
    }
    if (tail.watching === target || tail.closed) return;
    this.unwatch(tail);
    try {
      const name = path.basename(tail.path);
      const watcher = watch(target, { persistent: false }, (_event, filename) => {
        if (exists && _event === 'rename') this.unwatch(tail);
        if (exists || !filename || filename === name || tail.path.startsWith(path.join(target, filename.toString()))) void this.poke(tail.sessionId);
      });
      watcher.on('error', () => this.unwatch(tail));
      tail.watcher = watcher;
      tail.watching = target;
    } catch {
      // The directory does not exist yet: hook events poke until it does.
    }
  }

  private async read(tail: Tail): Promise<void> {
    const store = this.deps.store();
    const row = await store.get<{ path: string; offset: number; inode: string | null }>('SELECT path, offset, inode FROM claude_transcripts WHERE session_id = ?', [tail.sessionId]);
    const statFile = () =>
      stat(tail.path, { bigint: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
    // Watch first, then look: a change between the two is then never missed.
    await this.watchFor(tail, (await statFile()) !== undefined);
    const info = await statFile();
    if (!info) return;
    if (tail.watching !== undefined && tail.watching !== tail.path) tail.again = true; // it appeared while its folder was watched
    const inode = info.ino.toString();
    const size = Number(info.size);
    let offset = row && row.path === tail.path && row.inode === inode ? row.offset : 0;
    if (size < offset) offset = 0;
    if (size === offset) {
      if (!row || row.path !== tail.path || row.inode !== inode || row.offset !== offset) await this.saveOffset(tail, offset, inode, []);
      return;
    }
    const length = size - offset;
    const buffer = Buffer.alloc(length);
    const handle = await open(tail.path, 'r');
    let got = 0;
    try {
      while (got < length) {
        const { bytesRead } = await handle.read(buffer, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } finally {
      await handle.close();
    }
    const lastNewline = buffer.subarray(0, got).lastIndexOf(0x0a);
    if (lastNewline < 0) return; // a partial line: wait for its newline
    const text = buffer.subarray(0, lastNewline + 1).toString('utf8');
    const usage: UsageRow[] = [];
    const models: string[] = [];
    for (const raw of text.split('\n')) {
      const line = parseLine(raw);
      if (!line) continue;
      const row = usageOf(line);
      if (row) usage.push(row);
      const model = modelOf(line);
      if (model) models.push(model);
    }
    await this.saveOffset(tail, offset + lastNewline + 1, inode, usage);
    if (models.length > 0) await this.noteModels(tail.sessionId, models);
  }

  private async saveOffset(tail: Tail, offset: number, inode: string, usage: UsageRow[]): Promise<void> {
    await this.deps.store().transaction(async (tx) => {
      for (const u of usage) {
        await tx.run(
          `INSERT OR IGNORE INTO claude_usage (session_id, message_id, request_id, model, input_tokens, output_tokens, cache_creation_5m, cache_creation_1h, cache_read_tokens, ts)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [tail.sessionId, u.messageId, u.requestId, u.model, u.inputTokens, u.outputTokens, u.cacheCreation5m, u.cacheCreation1h, u.cacheReadTokens, u.ts],
        );
      }
      await tx.run(
        `INSERT INTO claude_transcripts (session_id, path, offset, inode) VALUES (?, ?, ?, ?)
         ON CONFLICT (session_id) DO UPDATE SET path = excluded.path, offset = excluded.offset, inode = excluded.inode`,
        [tail.sessionId, tail.path, offset, inode],
      );
    });
  }

  /** Records `model_switch` when the answering model differs from the session's current one. */
  private async noteModels(sessionId: string, models: string[]): Promise<void> {
    const directory = this.deps.sessions();
    const session = await directory.resolve(sessionId);
    let current = typeof session.metadata.model === 'string' ? session.metadata.model : null;
    const start = current;
    for (const model of models) {
      if (model === current) continue;
      if (current !== null && !isAlias(current)) await this.deps.events().append({ sessionId, type: 'model_switch', payload: { from: current, to: model } }, SOURCE);
      current = model;
    }
    if (current !== start) await directory.updateMetadata(sessionId, { model: current });
  }
}

/** `sonnet`, `opus[1m]`, `default`...: a name Claude resolves, not the model that answers. */
const isAlias = (model: string): boolean => /^[a-z]+(\[[a-z0-9]+\])?$/.test(model);
