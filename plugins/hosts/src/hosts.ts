import { stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { badRequest, CodePiperError, notFound, type Logger, type Store } from '@codepiper/sdk';
import { sessionHost, type LaunchSpec, type PrivateFile, type ProgramPlace, type RemoteLaunch, type SessionDirectory, type SessionRecord, type SessionStatus } from '@codepiper/sessions-contract';
import type { Host, HostListing, HostStatus } from '@codepiper/hosts-contract';
import { HostConnection } from './connection.js';
import { FileCopies } from './file-copies.js';
import { removeSessionFilesScript, takeScript, writeFilesScript } from './host-files.js';
import { probeHost } from './probe.js';
import { endCommand, remoteLaunchSpec, secretsFile } from './remote-launch.js';
import { describeSshFailure, inSh, type SshPlaces } from './ssh.js';

interface HostRow {
  name: string;
  destination: string;
  port: number | null;
  identity: string | null;
  created_at: string;
}

const toHost = (row: HostRow): Host => ({ name: row.name, destination: row.destination, port: row.port, identity: row.identity, createdAt: row.created_at });

export type NewHost = Pick<Host, 'name' | 'destination'> & { port?: number; identity?: string };

/** The hosts the daemon reaches over SSH, each with its one connection. */
export class Hosts {
  private readonly connections = new Map<string, HostConnection>();
  /** Hosts whose lost connection is being opened again. */
  private readonly reconnecting = new Set<string>();
  /** Aborted as the daemon stops: waits between tries end, and no connection is made after. */
  private readonly stopping = new AbortController();
  private readonly copies: FileCopies;

  constructor(private readonly deps: { store: Store; places: SshPlaces; sessions: () => SessionDirectory; log: Logger; copies: string }) {
    this.copies = new FileCopies({
      store: deps.store,
      dir: deps.copies,
      places: deps.places,
      connection: async (name) => {
        const host = await this.find(name);
        return host && this.connection(host);
      },
      log: deps.log,
    });
  }

  /** The hosts, each reached now and looked at (`check`), or as added. */
  async list(check = true): Promise<HostListing[]> {
    return Promise.all((await this.all()).map(async (host) => ({ ...host, probe: check ? await probeHost(this.connection(host)) : null })));
  }

  /** Adds a host once it has been reached (its key verified); nothing is kept of one that could not be. */
  async add(fields: NewHost): Promise<HostStatus> {
    if (await this.find(fields.name)) throw new CodePiperError('host_exists', `a host named ${fields.name} exists (codepiper host rm ${fields.name} first)`);
    const host: Host = { name: fields.name, destination: fields.destination, port: fields.port ?? null, identity: await identityFile(fields.identity), createdAt: new Date().toISOString() };
    const connection = this.connection(host);
    const probe = await probeHost(connection);
    if (!probe.reachable) {
      this.connections.delete(host.name);
      await connection.close();
      throw new CodePiperError('host_unreachable', `could not reach ${host.name}: ${probe.error}`);
    }
    await this.deps.store.run('INSERT INTO hosts (name, destination, port, identity, created_at) VALUES (?, ?, ?, ?, ?)', [host.name, host.destination, host.port, host.identity, host.createdAt]);
    return { ...host, probe };
  }

  /** Forgets a host; refused while sessions run there (they would lose the connection that ends them). */
  async remove(name: string): Promise<void> {
    const host = await this.find(name);
    if (!host) throw notFound(`host ${name}`);
    const running = (await this.running()).filter((session) => sessionHost(session) === name);
    if (running.length > 0) {
      throw new CodePiperError('host_in_use', `${running.length} session(s) still run on ${name} (${running.map((s) => s.name).join(', ')}): stop them first`, { sessions: running.map((s) => s.id) });
    }
    await this.connection(host).close();
    this.connections.delete(name);
    await this.deps.store.run('DELETE FROM hosts WHERE name = ?', [name]);
  }

  /**
   * Where a session's program on a host runs, as its provider prepares it:
   * files under `~/.codepiper` there, written over the connection; the
   * agents' socket forwarded there; what it writes copied here as it grows.
   */
  async place(name: string): Promise<ProgramPlace> {
    const host = await this.find(name);
    if (!host) throw notFound(`host ${name}`);
    const connection = this.connection(host);
    const { home, agentSocket } = await connection.agentsReach();
    return {
      host: name,
      home,
      agentSocket,
      sessionDir(plugin, sessionId) {
        if (!/^[a-z][a-z0-9-]*$/.test(plugin) || !/^[0-9a-f-]{36}$/.test(sessionId)) throw new Error(`unexpected session directory ${plugin}/${sessionId}`);
        return `${home}/.codepiper/${plugin}/${sessionId}`;
      },
      writeFiles: async (files: readonly PrivateFile[]) => {
        const written = await connection.run('sh -s', { input: writeFilesScript(files) });
        if (written.code !== 0) throw new CodePiperError('host_unreachable', `could not write a session’s files on ${name}: ${describeSshFailure(host, written)}`);
      },
      take: async (file) => {
        const taken = await connection.run(inSh(takeScript(file)));
        if (taken.code !== 0) throw new CodePiperError('host_unreachable', `could not read ${file} on ${name}: ${describeSshFailure(host, taken)}`);
        return taken.stdout;
      },
      readable: (sessionId, file) => this.copies.copy(name, sessionId, file),
    };
  }

  /** What runs here for a session's program on a host; refused for a host not added, or not reachable now. */
  async launch(request: RemoteLaunch): Promise<LaunchSpec> {
    const host = await this.find(request.host);
    if (!host) throw notFound(`host ${request.host}`);
    const connection = this.connection(host);
    await connection.open();
    if (Object.keys(request.secrets).length > 0) {
      const { command, input } = secretsFile(request.sessionId, request.secrets);
      const written = await connection.run(command, { input });
      if (written.code !== 0) throw new CodePiperError('host_unreachable', `could not hand the secrets to ${host.name}: ${describeSshFailure(host, written)}`);
    }
    return remoteLaunchSpec(request, connection, this.deps.places);
  }

  /** A session on `hostName` ended: what it had there goes too (see `endCommand`). */
  async ended(hostName: string, sessionId: string): Promise<void> {
    await this.copies.end(sessionId);
    const host = await this.find(hostName);
    if (!host) return;
    await this.connection(host).run(endCommand(sessionId));
  }

  /** A session on `hostName` was removed: its copies here and its files there (hook script and secret, kept events) go. */
  async removed(hostName: string, sessionId: string): Promise<void> {
    await this.copies.remove(sessionId);
    const host = await this.find(hostName);
    if (!host) return;
    const removed = await this.connection(host).run(inSh(removeSessionFilesScript(sessionId)));
    if (removed.code !== 0) throw new CodePiperError('host_unreachable', `could not remove the session’s files on ${hostName}: ${describeSshFailure(host, removed)}`);
  }

  /**
   * At start: the connection to each host with sessions still running there
   * is opened, so that a loss is noticed (and the sessions marked) even
   * before anyone asks for the host.
   */
  async reconnectInUse(): Promise<void> {
    const hosts = await this.all();
    // A daemon with no hosts (most) starts without reading every session.
    if (hosts.length === 0) return;
    const inUse = new Set((await this.running()).flatMap((session) => sessionHost(session) ?? []));
    for (const host of hosts) {
      if (!inUse.has(host.name)) continue;
      void this.connection(host)
        .open()
        .then(() => this.joined(host))
        .catch(() => this.lost(host));
    }
  }

  /** The daemon stops: the hosts' connections are let go, the sessions' panes over them left undisturbed. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.copies.close();
    await Promise.all([...this.connections.values()].map((connection) => connection.release()));
    this.connections.clear();
  }

  private async all(): Promise<Host[]> {
    return (await this.deps.store.all<HostRow>('SELECT * FROM hosts ORDER BY name')).map(toHost);
  }

  private async find(name: string): Promise<Host | undefined> {
    const row = await this.deps.store.get<HostRow>('SELECT * FROM hosts WHERE name = ?', [name]);
    return row && toHost(row);
  }

  private connection(host: Host): HostConnection {
    // Made once the daemon stopped, a connection would never be let go, and would keep the daemon from exiting.
    if (this.stopping.signal.aborted) throw new CodePiperError('host_unreachable', `the daemon is stopping: ${host.name} is not reached`);
    let connection = this.connections.get(host.name);
    if (!connection) {
      connection = new HostConnection(host, this.deps.places, () => void this.lost(host));
      this.connections.set(host.name, connection);
    }
    return connection;
  }

  /** Sessions on other hosts that have not finished. */
  private async running(): Promise<SessionRecord[]> {
    return (await this.deps.sessions().list({ finished: 0 })).filter((session) => sessionHost(session) !== undefined);
  }

  /**
   * The host's connection ended by itself: its sessions are `unreachable`
   * (their programs go on there) until it is opened again, tried after 1 s,
   * then twice as long each time up to 30 s.
   */
  private async lost(host: Host): Promise<void> {
    if (this.stopping.signal.aborted || !this.connections.has(host.name)) return;
    // Each loss is told, even one while tries after an earlier loss go on: sessions started in between ran over a connection now gone.
    await this.mark(host, null, 'unreachable', `the connection to ${host.name} is lost; trying again`);
    if (this.reconnecting.has(host.name)) return;
    this.reconnecting.add(host.name);
    try {
      await this.reconnect(host);
    } finally {
      this.reconnecting.delete(host.name);
    }
  }

  private async reconnect(host: Host): Promise<void> {
    this.deps.log.warn({ host: host.name }, 'the connection to a host is lost');
    for (let delay = 1_000; this.connections.has(host.name); delay = Math.min(delay * 2, 30_000)) {
      const stopped = await sleep(delay, false, { signal: this.stopping.signal }).catch(() => true);
      if (stopped) return;
      try {
        await this.connection(host).open();
        this.deps.log.info({ host: host.name }, 'the connection to a host is back');
        return await this.joined(host);
      } catch {
        // Still away: wait longer.
      }
    }
  }

  /** The host's connection is up again (or, at start, up for the first time since one was lost): its sessions and copies go on. */
  private async joined(host: Host): Promise<void> {
    await this.copies.resume(host.name);
    await this.mark(host, 'unreachable', 'running', null);
  }

  /** Sets the status of the host's unfinished sessions (those in `from`, unless null). */
  private async mark(host: Host, from: SessionStatus | null, to: SessionStatus, detail: string | null): Promise<void> {
    for (const session of await this.running()) {
      if (sessionHost(session) === host.name && (from === null || session.status === from)) await this.deps.sessions().setStatus(session.id, to, detail);
    }
  }
}

/** An identity file as given: an absolute path of a readable file (only the path is kept; the key stays where it is). */
async function identityFile(file: string | undefined): Promise<string | null> {
  if (file === undefined) return null;
  if (!path.isAbsolute(file)) throw badRequest(`identity "${file}" must be an absolute path`);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw badRequest(`identity "${file}" is not a file`);
  return file;
}
