import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { eachLine, readLines, type Store } from '@codepiper/sdk';
import { emptyBatch, type HistoryImporter, type ImportStatus, type UsageBatch } from '@codepiper/analytics-contract';
import { batchSize, writeBatch } from './ledger.js';


/** Records per transaction: large enough to amortise the commit, small enough to keep memory flat. */
const FLUSH_RECORDS = 5000;
/** Progress is published at most this often. */
const PROGRESS_MS = 250;

interface Checkpoint {
  provider: string;
  inode: string;
  offset: number;
  state: unknown;
}

interface Source {
  importer: HistoryImporter;
  dir: string;
  files: { path: string; size: number; inode: string }[];
  missing: boolean;
}

async function listSource(importer: HistoryImporter, dir: string): Promise<Source> {
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { importer, dir, files: [], missing: true };
    throw error;
  }
  const files: Source['files'] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    if (!importer.accepts(file)) continue;
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) files.push({ path: file, size: info.size, inode: String(info.ino) });
  }
  return { importer, dir, files, missing: false };
}

/**
 * One run of `codepiper analytics import`: lists the files, then reads each
 * from where an earlier import stopped (same inode, not shorter), in chunks,
 * writing records and the files' new offsets together in transactions.
 */
export class ImportJob {
  readonly status: ImportStatus;
  private readonly listeners = new Set<(status: ImportStatus) => void>();
  private batch: UsageBatch = emptyBatch();
  private readonly pending = new Map<string, Checkpoint>();
  private lastPublished = 0;
  private writing: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly plan: readonly { importer: HistoryImporter; dir: string }[],
  ) {
    this.status = {
      id: randomUUID(),
      state: 'running',
      sources: plan.map(({ importer, dir }) => ({ provider: importer.provider, dir, files: 0, missing: false })),
      files: { done: 0, total: 0 },
      bytes: { done: 0, total: 0, skipped: 0 },
      added: { usage: 0, toolCalls: 0 },
      error: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
    };
  }

  get finished(): boolean {
    return this.status.state !== 'running';
  }

  /** Ends the run at the next chunk (the daemon is stopping); what was written stays, and a new import goes on from there. */
  stop(): void {
    this.stopping = true;
  }

  /** Calls `listener` on progress and once at the end; returns an unsubscribe function. */
  subscribe(listener: (status: ImportStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async run(): Promise<void> {
    try {
      const sources = await Promise.all(this.plan.map(({ importer, dir }) => listSource(importer, dir)));
      const checkpoints = await this.checkpoints();
      sources.forEach((source, i) => Object.assign(this.status.sources[i]!, { files: source.files.length, missing: source.missing }));
      for (const source of sources) {
        for (const file of source.files) {
          this.status.files.total += 1;
          this.status.bytes.total += file.size;
        }
      }
      for (const source of sources) for (const file of source.files) await this.importFile(source.importer, file, checkpoints.get(file.path));
      await this.flush();
      await this.writing;
      this.status.state = 'done';
    } catch (error) {
      this.status.state = 'failed';
      this.status.error = error instanceof Error ? error.message : String(error);
    }
    this.status.endedAt = new Date().toISOString();
    this.publish(true);
    this.listeners.clear();
  }

  private async checkpoints(): Promise<Map<string, Checkpoint & { state: string | null }>> {
    const rows = await this.store.all<{ path: string; provider: string; inode: string; offset: number; state: string | null }>('SELECT * FROM analytics_import_files');
    return new Map(rows.map((r) => [r.path, r]));
  }

  private async importFile(importer: HistoryImporter, file: Source['files'][number], previous: (Checkpoint & { state: string | null }) | undefined): Promise<void> {
    const resume = previous && previous.provider === importer.provider && previous.inode === file.inode && previous.offset <= file.size;
    const start = resume ? previous.offset : 0;
    this.status.bytes.skipped += start;
    this.status.bytes.done += start;
    if (start < file.size) {
      const parser = importer.parser(file.path, resume && previous.state !== null ? (JSON.parse(previous.state) as unknown) : undefined);
      let done = start;
      await readLines(file.path, start, async (text, end) => {
        if (this.stopping) throw new Error('the daemon stopped; run the import again to go on from here');
        eachLine(text, (line) => parser.line(line, this.batch));
        this.pending.set(file.path, { provider: importer.provider, inode: file.inode, offset: end, state: parser.state() });
        this.status.bytes.done += end - done;
        done = end;
        if (batchSize(this.batch) >= FLUSH_RECORDS) await this.flush();
        this.publish(false);
      });
      // Bytes after the last newline (a line being written) are read next time.
      this.status.bytes.done += file.size - done;
    }
    this.status.files.done += 1;
    this.publish(false);
  }

  /**
   * Hands the batch and its files' offsets to one transaction. The next chunks
   * are parsed while it commits; at most one write is in flight, so writes
   * stay in order and memory stays bounded.
   */
  private async flush(): Promise<void> {
    const batch = this.batch;
    const checkpoints = [...this.pending];
    if (batchSize(batch) === 0 && checkpoints.length === 0) return;
    this.batch = emptyBatch();
    this.pending.clear();
    await this.writing;
    this.writing = this.write(batch, checkpoints);
    // Its failure is reported where it is awaited (the next flush or the end), not as an unhandled rejection.
    this.writing.catch(() => undefined);
  }

  private async write(batch: UsageBatch, checkpoints: [string, Checkpoint][]): Promise<void> {
    const added = await this.store.transaction(async (tx) => {
      const written = await writeBatch(tx, batch);
      for (const [file, c] of checkpoints) {
        await tx.run(
          `INSERT INTO analytics_import_files (path, provider, inode, offset, state) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (path) DO UPDATE SET provider = excluded.provider, inode = excluded.inode, offset = excluded.offset, state = excluded.state`,
          [file, c.provider, c.inode, c.offset, c.state === undefined ? null : JSON.stringify(c.state)],
        );
      }
      return written;
    });
    this.status.added.usage += added.usage;
    this.status.added.toolCalls += added.toolCalls;
  }

  private publish(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastPublished < PROGRESS_MS) return;
    this.lastPublished = now;
    for (const listener of this.listeners) listener(this.status);
  }
}
