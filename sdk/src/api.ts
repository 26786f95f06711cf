import type { Static, TSchema } from '@sinclair/typebox';
import type { WebSocket } from 'ws';

export type { WebSocket };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call an endpoint over TCP (the Unix socket serves every endpoint
 * to the local user without a login):
 * - `authenticated` (the default): a signed-in session, as the request
 *   authenticator (`httpAuthenticate`) decides; with no authenticator, nobody.
 * - `public`: anyone (health, login, first-run setup).
 * - `local`: nobody over TCP; the local CLI only.
 */
export type EndpointAccess = 'authenticated' | 'public' | 'local';

/**
 * One API endpoint, defined once: the server validates with these schemas,
 * clients are typed by them and the OpenAPI document is generated from them.
 */
export interface Endpoint<
  P extends TSchema | undefined = TSchema | undefined,
  Q extends TSchema | undefined = TSchema | undefined,
  B extends TSchema | undefined = TSchema | undefined,
  R extends TSchema = TSchema,
> {
  readonly method: HttpMethod;
  readonly url: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly response: R;
  /** Status of a successful response; 200 unless set. */
  readonly status: number;
  readonly access: EndpointAccess;
  /**
   * Part of the control plane: it changes what governs the agents (policies,
   * approvals, secrets, auth). Over the Unix socket the kernel asks
   * `localControlRequest` who sent it, so that a program running inside a
   * session cannot loosen its own leash. A test of the body, for an endpoint
   * whose requests change that only when they say so (a start naming policy sets).
   */
  readonly control: boolean | ControlTest;
  /** Largest body taken, in bytes, where it is not the daemon's usual 1 MiB (an uploaded image). */
  readonly bodyLimit?: number;
  /**
   * Served on the agents' socket too (`DaemonPaths.agentSocket`): an agent's
   * hook, which authenticates by its session's own secret. That socket,
   * forwarded to another host, serves nothing else.
   */
  readonly agents: boolean;
}

/** Whether one request's body makes it a control-plane request. */
export type ControlTest = (body: unknown) => boolean;

export function defineEndpoint<
  R extends TSchema,
  P extends TSchema | undefined = undefined,
  Q extends TSchema | undefined = undefined,
  B extends TSchema | undefined = undefined,
>(spec: {
  method: HttpMethod;
  url: string;
  summary: string;
  tags: readonly string[];
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  status?: number;
  access?: EndpointAccess;
  control?: boolean | ((body: StaticOrNone<B>) => boolean);
  bodyLimit?: number;
  agents?: boolean;
}): Endpoint<P, Q, B, R> {
  return Object.freeze({
    status: 200,
    access: 'authenticated' as const,
    agents: false,
    ...spec,
    control: (spec.control ?? false) as boolean | ControlTest,
    params: spec.params as P,
    query: spec.query as Q,
    body: spec.body as B,
  });
}

type StaticOrNone<S> = S extends TSchema ? Static<S> : undefined;

/** Any endpoint, whatever its shapes: what a client's `call` accepts. */
export type AnyEndpoint = Endpoint<TSchema | undefined, TSchema | undefined, TSchema | undefined, TSchema>;

export type EndpointParams<E> = E extends Endpoint<infer P, TSchema | undefined, TSchema | undefined, TSchema> ? StaticOrNone<P> : never;
export type EndpointQuery<E> = E extends Endpoint<TSchema | undefined, infer Q, TSchema | undefined, TSchema> ? StaticOrNone<Q> : never;
export type EndpointBody<E> = E extends Endpoint<TSchema | undefined, TSchema | undefined, infer B, TSchema> ? StaticOrNone<B> : never;
export type EndpointResponse<E> = E extends Endpoint<TSchema | undefined, TSchema | undefined, TSchema | undefined, infer R> ? Static<R> : never;

/** Who is calling: the local CLI over the Unix socket, or a remote client over TCP. */
export interface RequestOrigin {
  transport: 'unix' | 'tcp';
  /** Remote address for TCP (the client's, as a trusted proxy reports it); `local` for the socket. */
  address: string;
  /** Whether the client reached the daemon over TLS (directly, or as a trusted proxy reports it). */
  secure: boolean;
  /** TCP only: the origin the client addressed (`https://host:port`), a host the listener accepts. */
  site?: string;
}

/** Who asked, for the audit trail: `unix:local`, `tcp:203.0.113.5`. */
export const describeOrigin = (origin: Pick<RequestOrigin, 'transport' | 'address'>): string => `${origin.transport}:${origin.address}`;

/** What a handler may add to its response. */
export interface ResponseControl {
  /** Sets a response header (`set-cookie` with an array for several cookies). */
  header(name: string, value: string | readonly string[]): void;
}

export interface RequestContext<E> {
  params: EndpointParams<E>;
  query: EndpointQuery<E>;
  body: EndpointBody<E>;
  origin: RequestOrigin;
  /** Request headers, lower-cased names (for credentials that must not travel in URLs). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  reply: ResponseControl;
  /** Aborted when the client goes away before the reply is sent (a hook whose agent stopped waiting); not when the daemon stops. */
  signal: AbortSignal;
}

export type EndpointHandler<E> = (request: RequestContext<E>) => Promise<EndpointResponse<E>>;

/** What is known of a request before its body is read: its path parameters (not yet checked against the schema) and headers. */
export interface RequestHead {
  params: Readonly<Record<string, string | undefined>>;
  headers: RequestContext<unknown>['headers'];
}

export interface HandleOptions {
  /**
   * Decides, before the body is read, whether the request may go on: throws
   * (a `CodePiperError`) to refuse it. For an endpoint with a large body
   * limit, so that a caller without credentials cannot make the daemon read
   * and parse one.
   */
  admit?: (request: RequestHead) => Promise<void>;
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(headers: RequestContext<unknown>['headers']): string | undefined {
  const value = headers.authorization;
  const match = typeof value === 'string' ? /^Bearer ([^\s]+)$/.exec(value) : null;
  return match?.[1];
}

/** The OpenAPI extension (`"x-websocket": true`) that marks an operation of `/openapi.json` as a WebSocket. */
export const WEBSOCKET_OPERATION = 'x-websocket';

/** What every GET-only endpoint declares: its URL parameters and query are validated like any route's. */
export interface GetEndpoint<P extends TSchema | undefined = TSchema | undefined, Q extends TSchema | undefined = TSchema | undefined> {
  readonly url: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly params: P;
  readonly query: Q;
  readonly access: EndpointAccess;
}

interface GetEndpointSpec<P extends TSchema | undefined, Q extends TSchema | undefined> {
  url: string;
  summary: string;
  tags: readonly string[];
  params?: P;
  query?: Q;
  access?: EndpointAccess;
}

function defineGetEndpoint<P extends TSchema | undefined, Q extends TSchema | undefined, S extends GetEndpointSpec<P, Q>>(spec: S) {
  return Object.freeze({ access: 'authenticated' as const, ...spec, params: spec.params as P, query: spec.query as Q });
}

/** A WebSocket endpoint. */
export type SocketEndpoint<P extends TSchema | undefined = TSchema | undefined, Q extends TSchema | undefined = TSchema | undefined> = GetEndpoint<P, Q>;

export function defineSocketEndpoint<P extends TSchema | undefined = undefined, Q extends TSchema | undefined = undefined>(spec: GetEndpointSpec<P, Q>): SocketEndpoint<P, Q> {
  return defineGetEndpoint<P, Q, GetEndpointSpec<P, Q>>(spec);
}

export interface SocketContext<E> {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  params: E extends SocketEndpoint<infer P, TSchema | undefined> ? StaticOrNone<P> : never;
  query: E extends SocketEndpoint<TSchema | undefined, infer Q> ? StaticOrNone<Q> : never;
  origin: RequestOrigin;
}

export type SocketHandler<E> = (socket: WebSocket, request: SocketContext<E>) => void | Promise<void>;

/**
 * A GET endpoint that answers with JSON lines (`application/x-ndjson`), one
 * `line` value each, streamed as they are produced: a long listing in one
 * request, printed as it arrives, without a page of objects in memory.
 */
export interface LinesEndpoint<P extends TSchema | undefined = TSchema | undefined, Q extends TSchema | undefined = TSchema | undefined, L extends TSchema = TSchema> extends GetEndpoint<P, Q> {
  /** The schema of each line. */
  readonly line: L;
}

export function defineLinesEndpoint<L extends TSchema, P extends TSchema | undefined = undefined, Q extends TSchema | undefined = undefined>(
  spec: GetEndpointSpec<P, Q> & { line: L },
): LinesEndpoint<P, Q, L> {
  return defineGetEndpoint<P, Q, GetEndpointSpec<P, Q> & { line: L }>(spec);
}

/** The media type of a `LinesEndpoint`'s response. */
export const JSON_LINES = 'application/x-ndjson';

export interface LinesContext<E> {
  params: E extends LinesEndpoint<infer P, TSchema | undefined, TSchema> ? StaticOrNone<P> : never;
  query: E extends LinesEndpoint<TSchema | undefined, infer Q, TSchema> ? StaticOrNone<Q> : never;
  origin: RequestOrigin;
}

/**
 * Resolves, or throws an `ApiError` answered as usual, before anything is sent;
 * then yields UTF-8 bytes (or text) made of whole lines, each ending with a
 * newline. A failure while yielding cuts the response short, which the client
 * reports.
 */
export type LinesHandler<E> = (request: LinesContext<E>) => Promise<AsyncIterable<Uint8Array | string>>;

/** What a plugin uses, during `register`, to serve endpoints. */
export interface ApiRegistrar {
  handle<E extends Endpoint>(endpoint: E, handler: EndpointHandler<E>, options?: HandleOptions): void;
  handleSocket<E extends SocketEndpoint>(endpoint: E, handler: SocketHandler<E>): void;
  handleLines<E extends LinesEndpoint>(endpoint: E, handler: LinesHandler<E>): void;
  /**
   * Serves every file under `root` (listed now, once) as a public GET route
   * of its own, and `/` as `root/index.html`: a web app's built files, which
   * must load before anyone has signed in and hold no data. A file's `.br` or
   * `.gz` beside it is sent instead to a browser that accepts it.
   */
  handleFiles(root: string, options?: FileOptions): void;
}

export interface FileOptions {
  /** Files (paths relative to the root) whose name changes with their content, which browsers may keep for a year; the others they check each time. */
  immutable?: (file: string) => boolean;
}

/** The JSON body of every error response. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** The daemon answered with an error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Fills `:name` placeholders, encoding each value. */
/** A path parameter in an endpoint's URL: `:id`. */
const PATH_PARAMETER = /:([A-Za-z]+)/g;

/** The names of a URL's path parameters, in order: `/sessions/:id/files/:name` → `['id', 'name']`. */
export const pathParameters = (template: string): string[] => [...template.matchAll(PATH_PARAMETER)].map((match) => match[1]!);

export function expandUrl(template: string, params: Record<string, unknown> | undefined, query: Record<string, unknown> | undefined): string {
  const path = template.replace(PATH_PARAMETER, (_, key: string) => {
    const value = params?.[key];
    if (value === undefined) throw new Error(`missing URL parameter "${key}" for ${template}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) search.set(key, String(value));
  }
  const qs = search.toString();
  return qs ? `${path}?${qs}` : path;
}
