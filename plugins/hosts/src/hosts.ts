import { stat } from 'node:fs/promises';
import path from 'node:path';
import { badRequest, CodePiperError, notFound, type Host, type HostStatus, type LaunchSpec, type RemoteLaunch, type Store } from '@codepiper/sdk';
import { HostConnection } from './connection.js';
import { probeHost } from './probe.js';
import { REMOTE_TMUX, remoteLaunchSpec, tmuxName } from './remote-launch.js';
import type { SshPlaces } from './ssh.js';

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

  constructor(private readonly deps: { store: Store; places: SshPlaces }) {}

  async list(): Promise<HostStatus[]> {
    const hosts = (await this.deps.store.all<HostRow>('SELECT * FROM hosts ORDER BY name')).map(toHost);
    return Promise.all(hosts.map(async (host) => ({ ...host, probe: await probeHost(this.connection(host)) })));
  }

  /** Adds a host once it has been reached (its key verified); nothing is kept of one that could not be. */
  async add(fields: NewHost): Promise<HostStatus> {
    if (await this.find(fields.name)) throw new CodePiperError('host_exists', `a host named ${fields.name} exists (codepiper host rm ${fields.name} first)`);
    const host: Host = { name: fields.name, destination: fields.destination, port: fields.port ?? null, identity: await identityFile(fields.identity), createdAt: new Date().toISOString() };
    const connection = new HostConnection(host, this.deps.places);
    const probe = await probeHost(connection);
    if (!probe.reachable) {
      await connection.close();
      throw new CodePiperError('host_unreachable', `could not reach ${host.name}: ${probe.error}`);
    }
    await this.deps.store.run('INSERT INTO hosts (name, destination, port, identity, created_at) VALUES (?, ?, ?, ?, ?)', [host.name, host.destination, host.port, host.identity, host.createdAt]);
    this.connections.set(host.name, connection);
    return { ...host, probe };
  }

  async remove(name: string): Promise<void> {
    const host = await this.find(name);
    if (!host) throw notFound(`host ${name}`);
    await this.connection(host).close();
    this.connections.delete(name);
    await this.deps.store.run('DELETE FROM hosts WHERE name = ?', [name]);
  }

  /** What runs here for a session's program on a host; refused for a host not added, or not reachable now. */
  async launch(request: RemoteLaunch): Promise<LaunchSpec> {
    const host = await this.find(request.host);
    if (!host) throw notFound(`host ${request.host}`);
    const connection = this.connection(host);
    await connection.open();
    return remoteLaunchSpec(request, connection, this.deps.places);
  }

  /** A session on `hostName` ended: its tmux session there goes too (it may be gone already). */
  async ended(hostName: string, sessionId: string): Promise<void> {
    const host = await this.find(hostName);
    if (!host) return;
    await this.connection(host).run(`${REMOTE_TMUX} kill-session -t ${tmuxName(sessionId)} 2>/dev/null; true`);
  }

  /** Ends every host's connection (the daemon stops). */
  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.close()));
    this.connections.clear();
  }

  private async find(name: string): Promise<Host | undefined> {
    const row = await this.deps.store.get<HostRow>('SELECT * FROM hosts WHERE name = ?', [name]);
    return row && toHost(row);
  }

  private connection(host: Host): HostConnection {
    let connection = this.connections.get(host.name);
    if (!connection) {
      connection = new HostConnection(host, this.deps.places);
      this.connections.set(host.name, connection);
    }
    return connection;
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
