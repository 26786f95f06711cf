import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger, Store } from '@codepiper/sdk';
import type { HostConnection } from './connection.js';
import { followScript } from './host-files.js';
import { inSh, sshOptions, type SshPlaces } from './ssh.js';

interface CopyRow {
  session_id: string;
  host: string;
  remote: string;
  local: string;
}

/** One file on a host being copied here: the ssh that streams what is appended to it. */
interface Follower {
  child: ChildProcess;
  /** Settles once the child ended and all it sent is written here. */
  done: Promise<void>;
}

const key = (row: Pick<CopyRow, 'session_id' | 'remote'>): string => `${row.session_id}\n${row.remote}`;

/**
 * Copies of files the programs on hosts write (their transcripts), kept here
 * as they grow, so that what reads them (the usage ledger's tailer) reads
 * local files. Each is streamed over the host's connection from where the
 * copy ends (`tail -F`, no polling); a lost connection stops it, and it
 * starts again from the copy's end once the connection is back, so that
 * nothing is copied twice or missed. Recorded, so that a daemon started
 * again goes on copying.
 */
export class FileCopies {
  private readonly followers = new Map<string, Follower>();
  private closed = false;

  constructor(
    private readonly deps: {
      store: Store;
      /** Where the copies are kept. */
      dir: string;
      places: SshPlaces;
      connection: (host: string) => Promise<HostConnection | undefined>;
      log: Logger;
    },
  ) {}

  /** Starts copying `remote` (on `host`, written by `sessionId`'s program); resolves with the copy's path here. */
  async copy(host: string, sessionId: string, remote: string): Promise<string> {
    if (!path.posix.isAbsolute(remote) || path.posix.normalize(remote) !== remote || /[\n\r\0]/.test(remote)) throw new Error(`unexpected file on a host: ${JSON.stringify(remote)}`);
    const existing = await this.deps.store.get<CopyRow>('SELECT * FROM host_file_copies WHERE session_id = ? AND remote = ?', [sessionId, remote]);
    if (existing) return existing.local;
    // The host's own layout, under the session's directory: files beside each other there (a transcript, its subagents') are beside each other here.
    const local = path.join(this.deps.dir, sessionId, ...remote.split('/'));
    const row: CopyRow = { session_id: sessionId, host, remote, local };
    await this.deps.store.run('INSERT INTO host_file_copies (session_id, host, remote, local) VALUES (?, ?, ?, ?)', [sessionId, host, remote, local]);
    await this.follow(row);
    return local;
  }

  /** The connection to `host` is up (again): each of its copies goes on from where it ends. */
  async resume(host: string): Promise<void> {
    for (const row of await this.deps.store.all<CopyRow>('SELECT * FROM host_file_copies WHERE host = ?', [host])) await this.follow(row);
  }

  /** The session ended: its copies stop growing (they stay, for its transcript to be read). */
  async end(sessionId: string): Promise<void> {
    const rows = await this.deps.store.all<CopyRow>('SELECT * FROM host_file_copies WHERE session_id = ?', [sessionId]);
    await Promise.all(rows.map((row) => this.stop(key(row))));
    await this.deps.store.run('DELETE FROM host_file_copies WHERE session_id = ?', [sessionId]);
  }

  /** The session was removed: its copies go. */
  async remove(sessionId: string): Promise<void> {
    await this.end(sessionId);
    await rm(path.join(this.deps.dir, sessionId), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.followers.keys()].map((id) => this.stop(id)));
  }

  private async stop(id: string): Promise<void> {
    const follower = this.followers.get(id);
    follower?.child.kill();
    await follower?.done;
  }

  private async follow(row: CopyRow): Promise<void> {
    // Asked again after each wait: closed meanwhile (the daemon stopping), a follower started now would never be stopped.
    const unwanted = () => this.closed || this.followers.has(key(row));
    if (unwanted()) return;
    const connection = await this.deps.connection(row.host);
    if (!connection) return;
    await mkdir(path.dirname(row.local), { recursive: true, mode: 0o700 });
    const from = (await stat(row.local).catch(() => undefined))?.size ?? 0;
    if (unwanted()) return;
    const child = spawn('ssh', [...sshOptions(connection.target, this.deps.places), '--', connection.target.destination, inSh(followScript(row.remote, from))], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const out = createWriteStream(row.local, { flags: 'a', mode: 0o600 });
    // Ends the copy's stream with the child's output: all it sent is written before the next follower measures the copy.
    child.stdout?.pipe(out);
    const done = new Promise<void>((resolve) => out.once('close', resolve)).finally(() => this.followers.delete(key(row)));
    child.once('error', (error) => {
      this.deps.log.warn({ err: error, host: row.host }, 'could not follow a file on a host');
      out.end();
    });
    this.followers.set(key(row), { child, done });
  }
}
