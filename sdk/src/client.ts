import http from 'node:http';
import type { WebSocket } from 'ws';
import { ApiError, expandUrl, type AnyEndpoint, type EndpointBody, type EndpointParams, type EndpointQuery, type EndpointResponse, type SocketEndpoint, type SocketContext } from './api.js';

/** Where the daemon listens: its Unix socket (local) or a base URL (remote). */
export type ClientTarget = { socketPath: string } | { baseUrl: string; headers?: Record<string, string> };

/** Nothing is listening where the daemon should be. */
export class DaemonUnreachableError extends Error {
  constructor(
    readonly target: string,
    cause: unknown,
  ) {
    super(`no daemon is listening at ${target}`, { cause });
    this.name = 'DaemonUnreachableError';
  }
}

type Input<E> = { headers?: Record<string, string> } & (EndpointParams<E> extends undefined ? { params?: undefined } : { params: EndpointParams<E> }) &
  (EndpointQuery<E> extends undefined ? { query?: undefined } : { query?: EndpointQuery<E> }) &
  (EndpointBody<E> extends undefined ? { body?: undefined } : { body: EndpointBody<E> });

type SocketInput<E> = Partial<Pick<SocketContext<E>, 'params' | 'query'>>;

/** A typed client for the daemon's API, used by the CLI, the tests and third parties. */
export class ApiClient {
  constructor(readonly target: ClientTarget) {}

  get description(): string {
    return 'socketPath' in this.target ? this.target.socketPath : this.target.baseUrl;
  }

  async call<E extends AnyEndpoint>(
    endpoint: E,
    ...[input]: object extends Input<E> ? [Input<E>?] : [Input<E>]
  ): Promise<EndpointResponse<E>> {
    const i = (input ?? {}) as { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown; headers?: Record<string, string> };
    const path = expandUrl(endpoint.url, i.params, i.query);
    const payload = i.body === undefined ? undefined : Buffer.from(JSON.stringify(i.body));
    const { status, text } = await this.request(endpoint.method, path, payload, i.headers);
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (status >= 400) {
      const err = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
      throw new ApiError(status, err?.code ?? 'http_error', err?.message ?? `HTTP ${status}`, err?.details);
    }
    return parsed as EndpointResponse<E>;
  }

  /**
   * Opens a WebSocket endpoint; resolves once connected. Pass `onMessage` to
   * receive every message: the first ones can arrive with the handshake,
   * before a listener attached after this resolves would see them.
   */
  async openSocket<E extends SocketEndpoint>(endpoint: E, input: SocketInput<E> = {}, onMessage?: (data: Buffer, isBinary: boolean) => void): Promise<WebSocket> {
    // Loaded here, not with the module: most commands never open a socket, and ws takes long to load.
    const { WebSocket } = await import('ws');
    const path = expandUrl(endpoint.url, input.params as Record<string, unknown>, input.query as Record<string, unknown>);
    const url = 'socketPath' in this.target ? `ws+unix://${this.target.socketPath}:${path}` : this.target.baseUrl.replace(/^http/, 'ws') + path;
    const headers = 'socketPath' in this.target ? {} : (this.target.headers ?? {});
    const socket = new WebSocket(url, { headers, perMessageDeflate: false });
    if (onMessage) socket.on('message', (data: Buffer, isBinary: boolean) => onMessage(data, isBinary));
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(socket));
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          const err = (safeJson(body) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
          reject(new ApiError(res.statusCode ?? 500, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.statusCode}`, err?.details));
        });
      });
      socket.once('error', (error: NodeJS.ErrnoException) => reject(isUnreachable(error) ? new DaemonUnreachableError(this.description, error) : error));
    });
  }

  private async request(method: string, path: string, body: Buffer | undefined, extraHeaders: Record<string, string> = {}, retried = false): Promise<{ status: number; text: string }> {
    const headers: Record<string, string | number> = { accept: 'application/json', ...extraHeaders };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    let options: http.RequestOptions;
    let transport: Pick<typeof http, 'request'> = http;
    if ('socketPath' in this.target) {
      options = { socketPath: this.target.socketPath, path, method, headers };
    } else {
      const url = new URL(path, this.target.baseUrl);
      if (url.protocol === 'https:') transport = await import('node:https');
      options = { hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, headers: { ...headers, ...this.target.headers } };
    }
    return new Promise((resolve, reject) => {
      const req = transport.request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed while idle fails before the request reached it: sent again once, on a new socket.
        if (req.reusedSocket && !retried && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          resolve(this.request(method, path, body, extraHeaders, true));
          return;
        }
        reject(isUnreachable(error) ? new DaemonUnreachableError(this.description, error) : error);
      });
      req.end(body);
    });
  }
}

function isUnreachable(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTSOCK';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
