import type http from 'node:http';
import type net from 'node:net';

/** What a TCP peer's address is recorded as when the connection was gone before it was accepted. */
export const UNKNOWN_PEER = 'unknown';

/**
 * Which listener accepted each connection, recorded the moment it was
 * accepted: the daemon's Unix socket, the agents' or TCP. A request is local only if the Unix listener accepted its
 * connection; what can be read from a socket later (its address, after a
 * reset: nothing) decides nothing. A request that cannot be placed counts as
 * one from the TCP listener, the most exposed.
 */
export class Connections {
  private readonly local = new WeakSet<net.Socket>();
  private readonly agents = new WeakSet<net.Socket>();
  private readonly peers = new WeakMap<net.Socket, string>();

  acceptLocal(server: net.Server): void {
    server.on('connection', (socket: net.Socket) => this.local.add(socket));
  }

  /** The agents' socket's: its requests reach only the agents' hook endpoints. */
  acceptAgents(server: net.Server): void {
    server.on('connection', (socket: net.Socket) => this.agents.add(socket));
  }

  /** `secureConnection` for TLS: that is the socket its requests carry. */
  acceptTcp(server: net.Server, tls: boolean): void {
    server.on(tls ? 'secureConnection' : 'connection', (socket: net.Socket) => this.peers.set(socket, socket.remoteAddress ?? UNKNOWN_PEER));
  }

  isLocal(request: http.IncomingMessage): boolean {
    const socket = request.socket as net.Socket | null;
    return socket !== null && this.local.has(socket);
  }

  isAgent(request: http.IncomingMessage): boolean {
    const socket = request.socket as net.Socket | null;
    return socket !== null && this.agents.has(socket);
  }

  /** The TCP peer's address as it was when its connection was accepted. */
  peerAddress(request: http.IncomingMessage): string {
    const socket = request.socket as net.Socket | null;
    return (socket && this.peers.get(socket)) ?? UNKNOWN_PEER;
  }
}
