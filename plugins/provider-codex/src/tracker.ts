import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { eachLine, Mutex, raceTimeout, readLines, type Logger, type Store } from '@codepiper/sdk';
import { emptyBatch, type UsageLedger } from '@codepiper/analytics-contract';
import type { EventLog } from '@codepiper/events-contract';
import type { SessionDirectory } from '@codepiper/sessions-contract';
import { RolloutParser, type RolloutFact, type RolloutLine, type RolloutState } from './rollout.js';
import { watchUntil } from './watch.js';

export const SOURCE = 'provider-codex';
const CAPABILITIES_DIR = 'tui-thread-reference-capabilities';

export interface TrackerDeps {
  store: Store;
  events: EventLog;
  directory: () => SessionDirectory;
  ledger: () => UsageLedger;
  log: Logger;
}

/** Entries of Codex's per-thread marker directory (a thread id per file). */
export async function threadMarkers(codexHome: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(path.join(codexHome, CAPABILITIES_DIR)));
  } catch {
    return new Set();
  }
}

/** `sessions/YYYY/MM/DD/rollout-<local time>-<thread id>.jsonl`, if it exists. */
export async function findRollout(codexHome: string, threadId: string): Promise<string | undefined> {
  const root = path.join(codexHome, 'sessions');
  let entries: string[];
  try {
    entries = await readdir(root, { recursive: true });
  } catch {
    return undefined;
  }
  const suffix = `-${threadId}.jsonl`;
  const found = entries.filter((e) => path.basename(e).startsWith('rollout-') && e.endsWith(suffix)).sort();
  return found.length > 0 ? path.join(root, found[found.length - 1]!) : undefined;
}

interface RolloutRow {
  codex_home: string;
  thread_id: string | null;
  path: string | null;
  inode: string | null;
  offset: number;
  model: string | null;
  parser_state: string | null;
}

/**
 * Follows one Codex session: finds its thread id (the marker file Codex
 * creates at startup), then its rollout (created at the first prompt), then
 * tails the rollout from a stored offset, recording usage and tool calls in
 * the analytics ledger, and tool calls and completed turns as events. Push only: fs.watch, never a timer.
 */
export class SessionTracker {
  threadId: string | undefined;
  private rollout: string | undefined;
  private inode: string | undefined;
  private offset = 0;
  private model: string | undefined;
  private parserState: RolloutState | undefined;
  private usageChanged = false;
  private readonly abort = new AbortController();
  private fileWatcher: FSWatcher | undefined;
  private readonly reads = new Mutex();
  private threadKnown: Promise<string | undefined>;
  private resolveThread!: (id: string | undefined) => void;

  constructor(
    readonly sessionId: string,
    readonly codexHome: string,
    private readonly deps: TrackerDeps,
  ) {
    this.threadKnown = new Promise((resolve) => (this.resolveThread = resolve));
  }

  /** A new session: remembers where its Codex keeps files. */
  async init(model: string | undefined): Promise<void> {
    this.model = model;
    await this.deps.store.run(
      `INSERT INTO codex_rollouts (session_id, codex_home, offset, model, updated_at) VALUES (?, ?, 0, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET codex_home = excluded.codex_home, updated_at = excluded.updated_at`,
      [this.sessionId, this.codexHome, model ?? null, now()],
    );
  }

  /** After a daemon restart: carries on from what was stored. */
  async restore(): Promise<boolean> {
    const row = await this.deps.store.get<RolloutRow>('SELECT * FROM codex_rollouts WHERE session_id = ?', [this.sessionId]);
    if (!row) return false;
    this.rollout = row.path ?? undefined;
    this.inode = row.inode ?? undefined;
    this.offset = row.offset;
    this.model = row.model ?? undefined;
    this.parserState = row.parser_state === null ? undefined : (JSON.parse(row.parser_state) as RolloutState);
    if (row.thread_id) this.setThread(row.thread_id, false);
    return true;
  }

  /** Waits (bounded) for the thread id: a marker file that was not there before launch and no other session claimed. */
  discoverThread(before: ReadonlySet<string>, claimed: (id: string) => boolean, timeoutMs: number): void {
    const dir = path.join(this.codexHome, CAPABILITIES_DIR);
    void watchUntil(
      [{ dir: this.codexHome }, { dir }],
      async () => {
        const fresh = [...(await threadMarkers(this.codexHome))].filter((id) => !before.has(id) && !claimed(id)).sort();
        return fresh[fresh.length - 1];
      },
      { timeoutMs, signal: this.abort.signal },
    ).then((id) => {
      if (id) this.setThread(id, true);
      else {
        if (!this.abort.signal.aborted) this.deps.log.warn({ session: this.sessionId, codexHome: this.codexHome }, 'could not find the Codex session id; no usage or transcript for this session');
        this.resolveThread(undefined);
      }
    });
  }

  /** The thread id, waiting for its discovery at most `timeoutMs`. */
  async thread(timeoutMs: number): Promise<string | undefined> {
    if (this.threadId) return this.threadId;
    return raceTimeout(this.threadKnown, timeoutMs);
  }

  setThread(id: string, persist: boolean): void {
    if (this.threadId) return;
    this.threadId = id;
    this.resolveThread(id);
    if (persist) {
      void this.deps.store
        .run('UPDATE codex_rollouts SET thread_id = ?, updated_at = ? WHERE session_id = ?', [id, now(), this.sessionId])
        .then(() => this.deps.directory().updateMetadata(this.sessionId, { codexSessionId: id }))
        .catch((error: unknown) => this.deps.log.warn({ err: error, session: this.sessionId }, 'storing the Codex session id failed'));
    }
    if (this.rollout) this.follow(this.rollout);
    else this.awaitRollout();
  }

  /** Also called on each turn-complete notification, in case a watch event was missed. */
  async refresh(): Promise<void> {
    if (this.abort.signal.aborted || !this.threadId) return;
    if (!this.rollout) {
      const found = await findRollout(this.codexHome, this.threadId);
      if (found && !this.rollout) this.follow(found);
      return;
    }
    await this.schedule();
  }

  /** Reads what is left, then stops watching. */
  async close(): Promise<void> {
    if (this.abort.signal.aborted) return;
    await this.schedule().catch(() => undefined);
    this.abort.abort();
    this.fileWatcher?.close();
    this.fileWatcher = undefined;
    this.resolveThread(this.threadId);
  }

  get rolloutPath(): string | undefined {
    return this.rollout;
  }

  private awaitRollout(): void {
    const threadId = this.threadId;
    if (!threadId) return;
    void watchUntil([{ dir: this.codexHome }, { dir: path.join(this.codexHome, 'sessions'), recursive: true }], () => findRollout(this.codexHome, threadId), {
      signal: this.abort.signal,
    }).then((found) => {
      if (found && !this.rollout) this.follow(found);
    });
  }

  private follow(file: string): void {
    if (this.abort.signal.aborted) return;
    if (this.rollout !== file) {
      this.rollout = file;
      this.offset = 0;
      this.inode = undefined;
      this.parserState = undefined;
    }
    this.fileWatcher?.close();
    try {
      this.fileWatcher = watch(file, { persistent: false }, (kind) => {
        if (kind === 'rename') {
          // Replaced or moved: read what we can, then look for it again.
          void this.schedule().then(() => this.rewatch());
        } else void this.schedule();
      });
      this.fileWatcher.on('error', () => void this.rewatch());
    } catch {
      void this.rewatch();
      return;
    }
    void this.schedule();
  }

  private async rewatch(): Promise<void> {
    if (this.abort.signal.aborted || !this.threadId) return;
    this.fileWatcher?.close();
    this.fileWatcher = undefined;
    const found = await findRollout(this.codexHome, this.threadId);
    if (found) {
      this.rollout = found;
      this.follow(found);
    } else {
      this.rollout = undefined;
      this.awaitRollout();
    }
  }

  /** Serialises reads: one at a time, in order. */
  private schedule(): Promise<void> {
    return this.reads.run(() => this.readNew()).catch((error: unknown) => this.deps.log.warn({ err: error, session: this.sessionId }, 'reading the Codex rollout failed'));
  }

  private async readNew(): Promise<void> {
    const file = this.rollout;
    if (!file) return;
    const info = await stat(file).catch(() => undefined);
    if (!info) return;
    const inode = String(info.ino);
    if ((this.inode !== undefined && this.inode !== inode) || info.size < this.offset) {
      // Truncated or replaced: read it again from the start (the ledger keeps each response once).
      this.deps.log.info({ session: this.sessionId, file }, 'the Codex rollout was replaced or truncated; reading it again');
      this.offset = 0;
      this.parserState = undefined;
    }
    this.inode = inode;
    if (info.size === this.offset) return;
    const facts: { fact: RolloutFact; line: RolloutLine }[] = [];
    const parser = new RolloutParser(file, this.parserState, { session: this.sessionId, onFact: (fact, line) => facts.push({ fact, line }) });
    await readLines(file, this.offset, async (text, end) => {
      const batch = emptyBatch();
      eachLine(text, (line) => parser.line(line, batch));
      for (const { fact } of facts.splice(0)) await this.publish(fact);
      // Recorded before the offset moves: lines read again after a crash add nothing to the ledger.
      await this.deps.ledger().record(batch);
      this.offset = end;
      this.parserState = parser.state();
      await this.persist(file);
    });
  }

  private async publish(fact: RolloutFact): Promise<void> {
    const append = (type: string, payload: unknown) => this.deps.events.append({ sessionId: this.sessionId, type, payload }, SOURCE);
    if (fact.kind === 'tool_call') await append('codex.tool_call', { name: fact.name, arguments: fact.arguments, callId: fact.callId, turnId: fact.turnId });
    else if (fact.kind === 'task_complete') await append('codex.task_complete', { turnId: fact.turnId, lastAgentMessage: fact.lastAgentMessage });
    else if (fact.kind === 'usage') this.usageChanged = true;
  }

  /** Stores the offset and the parser's state; the session's metadata shows the last cumulative usage. */
  private async persist(file: string): Promise<void> {
    const state = this.parserState;
    await this.deps.store.run('UPDATE codex_rollouts SET path = ?, inode = ?, offset = ?, model = ?, parser_state = ?, updated_at = ? WHERE session_id = ?', [
      file,
      this.inode ?? null,
      this.offset,
      state?.model ?? this.model ?? null,
      state ? JSON.stringify(state) : null,
      now(),
      this.sessionId,
    ]);
    if (this.usageChanged && state?.totals) {
      this.usageChanged = false;
      await this.deps.directory().updateMetadata(this.sessionId, { usage: { ...state.totals, model: state.model ?? this.model ?? null } });
    }
  }
}

const now = (): string => new Date().toISOString();
