import http from 'node:http';
import type { WebSocket } from 'ws';
import {
  ApiError,
  expandUrl,
  JSON_LINES,
  type AnyEndpoint,
  type EndpointBody,
  type EndpointParams,
  type EndpointQuery,
  type EndpointResponse,
  type LinesContext,
  type LinesEndpoint,
  type SocketContext,
  type SocketEndpoint,
} from './api.js';

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
type LinesInput<E> = Partial<Pick<LinesContext<E>, 'params' | 'query'>>;

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
    const payload = i.body === undefined ? undefined : Buffer.from(JSON.stringify(i.body));
    return (await this.json(endpoint.method, expandUrl(endpoint.url, i.params, i.query), payload, i.headers ?? {})) as EndpointResponse<E>;
  }

  /** GETs a path the daemon itself described, a plugin's contributed command's (`/contributions`): its answer, untyped. */
  get(url: string, params: Record<string, unknown> = {}, query: Record<string, unknown> = {}): Promise<unknown> {
    return this.json('GET', expandUrl(url, params, query), undefined, {});
  }

  private async json(method: string, path: string, payload: Buffer | undefined, headers: Record<string, string>): Promise<unknown> {
    const response = await this.send(method, path, payload, headers, 'application/json');
    const text = await readText(response);
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if ((response.statusCode ?? 500) >= 400) throw errorOf(response.statusCode ?? 500, parsed);
    return parsed;
  }

  /**
   * A JSON-lines endpoint's response as it arrives, in chunks of whole lines
   * (each ending with a newline). Throws the daemon's `ApiError` before the
   * first chunk, or an error if the response is cut short.
   */
  async *lines<E extends LinesEndpoint>(endpoint: E, input: LinesInput<E> = {}): AsyncGenerator<Buffer> {
    const path = expandUrl(endpoint.url, input.params as Record<string, unknown>, input.query as Record<string, unknown>);
    const response = await this.send('GET', path, undefined, {}, JSON_LINES);
    if ((response.statusCode ?? 500) >= 400) throw errorOf(response.statusCode ?? 500, safeJson(await readText(response)));
    const cutShort = (why: string): Error => new Error(`the daemon's answer to ${endpoint.url} was cut short (${why})`);
    let carry: Buffer | undefined;
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        let from = 0;
        if (carry) {
          // Only the line that was cut is joined: copying whole chunks cost a long listing a tenth of its time.
          const first = chunk.indexOf(0x0a) + 1;
          if (first === 0) {
            carry = Buffer.concat([carry, chunk]);
            continue;
          }
          yield Buffer.concat([carry, chunk.subarray(0, first)]);
          from = first;
        }
        const end = chunk.lastIndexOf(0x0a) + 1;
        carry = end < chunk.length ? chunk.subarray(Math.max(end, from)) : undefined;
        if (end > from) yield chunk.subarray(from, end);
      }
    } catch (error) {
      throw cutShort((error as Error).message);
    }
    if (carry) throw cutShort('in the middle of a line');
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
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          reject(errorOf(res.statusCode ?? 500, safeJson(body)));
        });
      });
      socket.once('error', (error: NodeJS.ErrnoException) => reject(isUnreachable(error) ? new DaemonUnreachableError(this.description, error) : error));
    });
  }

  /** Sends a request; resolves with the response as soon as its head has arrived. */
  private async send(method: string, path: string, body: Buffer | undefined, extraHeaders: Record<string, string>, accept: string, retried = false): Promise<http.IncomingMessage> {
    const headers: Record<string, string | number> = { accept, ...extraHeaders };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    let options: http.RequestOptions;
    let transport: Pick<typeof http, 'request'> = http;
    if ('socketPath' in this.target) {
      // No TLS on a Unix socket: an explicit empty server name spares the agent's IP check, whose regex costs a CLI start ~15 ms.
      const unix: http.RequestOptions & { servername: string } = { socketPath: this.target.socketPath, servername: '', path, method, headers };
      options = unix;
    } else {
      const url = new URL(path, this.target.baseUrl);
      // Loaded here, not at import: TLS costs every other request's start.
      if (url.protocol === 'https:') transport = process.getBuiltinModule('node:https');
      options = { hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, headers: { ...headers, ...this.target.headers } };
    }
    return new Promise((resolve, reject) => {
      const req = transport.request(options, resolve);
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed while idle fails before the request reached it: sent again once, on a new socket.
        if (req.reusedSocket && !retried && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          resolve(this.send(method, path, body, extraHeaders, accept, true));
          return;
        }
        reject(isUnreachable(error) ? new DaemonUnreachableError(this.description, error) : error);
      });
      req.end(body);
    });
  }
}

function readText(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
    // Settles nothing after 'end': a response destroyed without an error still ends the wait.
    response.once('close', () => reject(new Error('the daemon\'s answer was cut short')));
  });
}

/** The `ApiError` an error response's body describes. */
function errorOf(status: number, body: unknown): ApiError {
  const err = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
  return new ApiError(status, err?.code ?? 'http_error', err?.message ?? `HTTP ${status}`, err?.details);
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
