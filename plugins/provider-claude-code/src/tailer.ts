import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { eachLine, readLines, type Logger, type Migration, type Store } from '@codepiper/sdk';
import { emptyBatch, type UsageLedger } from '@codepiper/analytics-contract';
import type { EventLog } from '@codepiper/events-contract';
import type { SessionDirectory } from '@codepiper/sessions-contract';
import { modelOf, TranscriptParser } from './transcript.js';

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
  {
    version: 2,
    name: 'usage moves to the analytics ledger; offsets per file, for subagent transcripts',
    up: `DROP TABLE claude_usage;
         CREATE TABLE claude_transcript_files (
           path TEXT PRIMARY KEY,
           session_id TEXT NOT NULL,
           offset INTEGER NOT NULL,
           inode TEXT NOT NULL
         );
         INSERT INTO claude_transcript_files (path, session_id, offset, inode) SELECT path, session_id, offset, inode FROM claude_transcripts WHERE inode IS NOT NULL;
         DROP TABLE claude_transcripts;`,
  },
];

/** A watch kept on a path: on the path itself once it exists, else on its nearest existing ancestor, for the way to it. */
interface Watch {
  watcher?: FSWatcher;
  /** What is watched: the path, or that ancestor. */
  watching?: string;
}

interface Tail {
  sessionId: string;
  path: string;
  transcript: Watch;
  /** The subagents' folder beside the transcript: a subagent in the background writes there while the transcript is quiet (on a host, its copy lands there after the hook that told of it). */
  subagents: Watch;
  running?: Promise<void>;
  again: boolean;
  closed: boolean;
}

const exists = (file: string): Promise<boolean> => stat(file).then(() => true, () => false);

function stopWatching(kept: Watch): void {
  kept.watcher?.close();
  kept.watcher = undefined;
  kept.watching = undefined;
}

export interface TailerDeps {
  store: () => Store;
  events: () => EventLog;
  sessions: () => SessionDirectory;
  ledger: () => UsageLedger;
  log: Logger;
}

/**
 * Follows each live session's transcript as it grows: pushed by fs.watch and
 * by every hook event; offsets live in SQLite so a daemon restart resumes
 * where it stopped. A partial last line waits for its newline; a truncated or
 * replaced file is read again from the start (the ledger keeps each record once).
 * Usage and tool calls go to the analytics ledger, subagents' included.
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
      tail = { sessionId, path: file, transcript: {}, subagents: {}, again: false, closed: false };
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
    stopWatching(tail.transcript);
    stopWatching(tail.subagents);
  }

  /**
   * Keeps `kept` watching `wanted`, or while it does not exist its nearest
   * existing ancestor; a change to it, or on the way to it, pokes the session.
   * Renamed (a file replaced, an entry added), it is watched again by the read
   * that poke starts.
   */
  private async keepWatching(tail: Tail, kept: Watch, wanted: string): Promise<void> {
    let target = wanted;
    while (!(await exists(target)) && path.dirname(target) !== target) target = path.dirname(target);
    if (kept.watching === target || tail.closed) return;
    stopWatching(kept);
    // Of a folder's entries only the next one on the way matters (or the folder itself, removed): Claude writes many others there.
    const relevant = target === wanted ? undefined : new Set([path.relative(target, wanted).split(path.sep)[0], path.basename(target)]);
    try {
      const watcher = watch(target, { persistent: false }, (event, filename) => {
        if (relevant && filename && !relevant.has(filename.toString())) return;
        if (event === 'rename' && kept.watcher === watcher) stopWatching(kept);
        void this.poke(tail.sessionId);
      });
      watcher.on('error', () => {
        if (kept.watcher === watcher) stopWatching(kept);
        else watcher.close();
      });
      kept.watcher = watcher;
      kept.watching = target;
      // The folder below the watched one may have been made between the look and the watch: what
      // happens in it reaches no watch, so look again (a deeper folder, or the path, is watched then).
      if (target !== wanted && (await exists(path.join(target, path.relative(target, wanted).split(path.sep)[0]!)))) tail.again = true;
    } catch {
      // Gone between the look and the watch: hook events poke until it is back.
    }
  }

  private async read(tail: Tail): Promise<void> {
    const statFile = () =>
      stat(tail.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
    // Watch first, then look: a change between the two is then never missed.
    await this.keepWatching(tail, tail.transcript, tail.path);
    if (!(await statFile())) return;
    if (tail.transcript.watching !== undefined && tail.transcript.watching !== tail.path) tail.again = true; // it appeared while its folder was watched
    await this.readFile(tail.sessionId, tail.path, true);
    // Subagents write transcripts of their own next to the session's; their usage is the session's.
    const subagents = path.join(path.dirname(tail.path), path.basename(tail.path, '.jsonl'), 'subagents');
    await this.keepWatching(tail, tail.subagents, subagents);
    const names = await readdir(subagents).catch(() => []);
    for (const name of names.filter((n) => n.endsWith('.jsonl')).sort()) await this.readFile(tail.sessionId, path.join(subagents, name), false);
  }

  /** Reads what was appended to one file since the stored offset (from the start if it was replaced or truncated). */
  private async readFile(sessionId: string, file: string, main: boolean): Promise<void> {
    const info = await stat(file, { bigint: true }).catch(() => undefined);
    if (!info) return;
    const inode = info.ino.toString();
    const size = Number(info.size);
    const row = await this.deps.store().get<{ offset: number; inode: string }>('SELECT offset, inode FROM claude_transcript_files WHERE path = ?', [file]);
    let offset = row?.inode === inode ? row.offset : 0;
    if (size < offset) offset = 0;
    if (size === offset) {
      if (row?.inode !== inode || row.offset !== offset) await this.saveOffset(sessionId, file, offset, inode);
      return;
    }
    const models: string[] = [];
    const parser = new TranscriptParser(file, {
      session: sessionId,
      onAssistant: (line) => {
        const model = main ? modelOf(line) : undefined;
        if (model) models.push(model);
      },
    });
    await readLines(file, offset, async (text, end) => {
      const batch = emptyBatch();
      eachLine(text, (line) => parser.line(line, batch));
      // Recorded before the offset moves: a crash in between reads the lines again, and the ledger keeps them once.
      await this.deps.ledger().record(batch);
      await this.saveOffset(sessionId, file, end, inode);
    });
    if (models.length > 0) await this.noteModels(sessionId, models);
  }

  private async saveOffset(sessionId: string, file: string, offset: number, inode: string): Promise<void> {
    await this.deps.store().run(
      `INSERT INTO claude_transcript_files (path, session_id, offset, inode) VALUES (?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET session_id = excluded.session_id, offset = excluded.offset, inode = excluded.inode`,
      [file, sessionId, offset, inode],
    );
  }

  /** Records `model_switch` when the answering model differs from the session's current one. */
  private async noteModels(sessionId: string, models: string[]): Promise<void> {
    const directory = this.deps.sessions();
    const session = await directory.resolve(sessionId);
    let current = typeof session.metadata.model === 'string' ? session.metadata.model : null;
    const start = current;
    const switches: { from: string; to: string }[] = [];
    for (const model of models) {
      if (model === current) continue;
      if (current !== null && !isAlias(current)) switches.push({ from: current, to: model });
      current = model;
    }
    // The metadata first: whoever reacts to the event reads the new model.
    if (current !== start) await directory.updateMetadata(sessionId, { model: current });
    for (const payload of switches) await this.deps.events().append({ sessionId, type: 'model_switch', payload }, SOURCE);
  }
}

/** `sonnet`, `opus[1m]`, `default`...: a name Claude resolves, not the model that answers. */
const isAlias = (model: string): boolean => /^[a-z]+(\[[a-z0-9]+\])?$/.test(model);
