import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyHelmetOptions } from '@fastify/helmet';
// reply.sendFile's types; the module itself is loaded by the first handleFiles.
import type {} from '@fastify/static';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import { CODEPIPER_VERSION, ErrorBody, JSON_LINES, type ApiErrorBody, type ApiRegistrar, type Endpoint, type EndpointHandler, type FileOptions, type GetEndpoint, type HandleOptions, type RequestHead, type LinesContext, type LinesEndpoint, type LinesHandler, type RequestContext, type RequestOrigin, type SocketContext, type SocketEndpoint, type SocketHandler, type WebSocket, WEBSOCKET_OPERATION, ERROR_CODES, isCodePiperError, type ErrorCode } from '@codepiper/sdk';
import { Ajv, type Options as AjvOptions, type ValidateFunction } from 'ajv';
import SerializerSelector, { type Serializer, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';
import addFormats from 'ajv-formats';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchemaValidationError,
} from 'fastify';
import { Connections } from './connections.js';
import { StartRefused } from './errors.js';
import { HostNames } from './host-names.js';
import { checkLocalRequest, decidedByBody, type CheckLocalControl } from './local-gate.js';
import { claimSocket } from './socket-claim.js';
import { SocketHeartbeat } from './socket-heartbeat.js';
import type { TlsFiles } from './tls-files.js';
import { WebGate, type Authenticate, type TcpClient } from './web-gate.js';

const BODY_LIMIT_BYTES = 1024 * 1024;
/** A year: how long a browser keeps a file whose name changes with its content. */
const IMMUTABLE_MAX_AGE_MS = 365 * 24 * 3600 * 1000;
/** A file's compressed forms, sent in its place (never routes of their own). */
const PRECOMPRESSED = /\.(br|gz)$/;

/** How long a TCP client has to send a whole request, a refused one's discarded body included. */
const TCP_REQUEST_TIMEOUT_MS = 60_000;
/** How long closing waits for TCP clients to finish before their connections are cut. */
const CLOSE_GRACE_MS = 2000;

/** The TCP listener of `codepiper daemon --web`. */
export interface WebListener {
  host: string;
  port: number;
  /** Its certificate and key, served as they are renewed. */
  tls?: TlsFiles;
  /** Fastify's `trustProxy`: believe `X-Forwarded-For/-Proto/-Host` from these proxies (`true`: from any). */
  trustProxy: boolean | string[];
  /** Origins besides the listener's own allowed to send state-changing requests and open WebSockets. */
  allowedOrigins: string[];
  /** Host names besides the listener's own address it answers to (`name` at any port, or `name:port`). */
  allowedHosts: string[];
  /** How often its WebSockets are pinged; one that has not answered by the next ping is closed. */
  heartbeatSeconds: number;
}

export interface ApiServerOptions {
  web?: WebListener;
  /** Decides TCP requests to non-public endpoints. */
  authenticate: Authenticate;
  /** Decides Unix socket requests to control-plane endpoints, knowing which processes sent them. */
  checkLocalControl: CheckLocalControl;
}

type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** The API description's account of errors: the body's shape, then every code with its status and meaning. */
const ERRORS_DESCRIPTION = [
  'Every error is a JSON body `{"error": {"code", "message", "details"?}}`. Decide by the code, never by the message:',
  '',
  '| code | status | meaning |',
  '|---|---|---|',
  ...Object.entries(ERROR_CODES).map(([code, { status, meaning }]) => `| \`${code}\` | ${status} | ${meaning} |`),
].join('\n');

/** Fastify's own errors that have a code of ours; other 4xx are `bad_request`. */
const FASTIFY_ERRORS: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
};

/** Each TCP request as the gate placed it, and who opened each WebSocket upgrade that came over TCP (its authenticator's principal). */
const tcpClients = new WeakMap<http.IncomingMessage, TcpClient>();
const principals = new WeakMap<http.IncomingMessage, string>();

/**
 * The daemon's HTTP and WebSocket API: endpoints validated by their schemas,
 * every error as `{"error": {"code", "message"}}`, and an OpenAPI document of
 * all of it at `/openapi.json`.
 */
export class ApiServer implements ApiRegistrar {
  private tcp?: http.Server;
  private agents?: http.Server;
  private closing = false;
  private servesFiles = false;
  /** Open WebSockets by the principal that opened them, so that ending a web session closes them. */
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private stopWatchingTls: (() => void) | undefined;
  /** Over TCP a client can vanish without closing its connection; over the Unix sockets the kernel closes it. */
  private readonly heartbeat: SocketHeartbeat | undefined;

  private constructor(
    private readonly app: FastifyInstance,
    /** Fastify's request handler, which the TCP server shares with the Unix one: one set of routes, two listeners. */
    private readonly handler: RequestHandler,
    private readonly web: WebListener | undefined,
    private readonly connections: Connections,
    private readonly gate: WebGate,
  ) {
    this.heartbeat = web && new SocketHeartbeat(web.heartbeatSeconds * 1000);
  }

  static async create(log: FastifyBaseLogger, options: ApiServerOptions): Promise<ApiServer> {
    let handler: RequestHandler | undefined;
    const connections = new Connections();
    const app = Fastify({
      serverFactory: (fastifyHandler) => {
        handler = fastifyHandler;
        const server = http.createServer(fastifyHandler);
        connections.acceptLocal(server);
        return server;
      },
      trustProxy: options.web?.trustProxy ?? false,
      loggerInstance: log,
      // Logged at debug by the onResponse hook below, keeping the daemon log quiet.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: BODY_LIMIT_BYTES,
      schemaErrorFormatter: describeInvalidInput,
      schemaController: { compilersFactory: { buildSerializer: lazySerializers() } },
    });
    app.setValidatorCompiler(validatorCompiler());
    app.setErrorHandler(replyWithError);
    app.setNotFoundHandler((request, reply) => {
      sendError(reply, 'not_found', `no route for ${request.method} ${request.url}`);
    });
    app.addHook('onResponse', async (request, reply) => {
      request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    });
    app.addSchema(ErrorBody);
    // Swagger collects the routes added after it.
    await app.register(swagger, {
      openapi: { info: { title: 'CodePiper daemon API', version: CODEPIPER_VERSION, description: ERRORS_DESCRIPTION } },
      refResolver: { buildLocalReference: (schema, _base, _fragment, i) => (typeof schema.$id === 'string' ? schema.$id : `def-${i}`) },
    });
    // Before the gate, so that its refusals carry these headers too. Only browsers, on the TCP listener, read them.
    if (options.web) await app.register(import('@fastify/helmet'), securityHeaders(options.web.tls !== undefined));
    await app.register(websocket);
    const gate = new WebGate({
      tls: options.web?.tls !== undefined,
      trustProxy: (options.web?.trustProxy ?? false) !== false,
      allowedOrigins: options.web?.allowedOrigins ?? [],
      authenticate: options.authenticate,
    });
    // After @fastify/websocket's own onRequest hook, which marks upgrades so that a refused one's socket is closed.
    const checkLocal = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const refusal = await checkLocalRequest(request, options.checkLocalControl);
      if (refusal) {
        request.log.info({ method: request.method, url: request.url, code: refusal.code }, 'local control request refused');
        await sendError(reply, refusal.code, refusal.message);
      }
    };
    // An endpoint whose body decides whether a request is a control request (a start naming policy sets) is asked again once the body is parsed.
    app.addHook('preHandler', async (request, reply) => {
      if (decidedByBody(request) && connections.isLocal(request.raw)) await checkLocal(request, reply);
    });
    app.addHook('onRequest', async (request, reply) => {
      if (connections.isLocal(request.raw)) return checkLocal(request, reply);
      if (connections.isAgent(request.raw)) {
        // Forwarded to other hosts: whoever is there may reach this socket, so it serves the agents' hooks and nothing else.
        if (!(request.routeOptions.config as { agents?: boolean } | undefined)?.agents) await sendError(reply, 'not_found', `the agents' socket serves only agent hooks, not ${request.method} ${request.url}`);
        return;
      }
      const websocket = request.headers.upgrade?.toLowerCase() === 'websocket';
      const peer = connections.peerAddress(request.raw);
      const refusal = await gate.check(request, peer, websocket);
      if (refusal.allowed) {
        tcpClients.set(request.raw, refusal.client);
        if (websocket && refusal.principal !== null) principals.set(request.raw, refusal.principal);
        return;
      }
      request.log.debug({ method: request.method, url: request.url, address: peer, code: refusal.code }, 'TCP request refused');
      if (refusal.retryAfterSeconds !== undefined) reply.header('retry-after', String(refusal.retryAfterSeconds));
      // A refused upgrade's socket is closed by @fastify/websocket. A body is never read by a
      // handler: Node discards it once the refusal is sent (within the listener's requestTimeout),
      // so that a client still sending gets the refusal rather than a reset.
      if (websocket) reply.header('connection', 'close');
      await sendError(reply, refusal.code, refusal.message);
    });
    // An endpoint's own check of the caller (HandleOptions.admit), once the listener's passed: a refusal is sent before the body is read.
    app.addHook('onRequest', async (request) => {
      const { admit } = (request.routeOptions.config ?? {}) as { admit?: HandleOptions['admit'] };
      await admit?.({ params: request.params as RequestHead['params'], headers: request.headers });
    });
    app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
    return new ApiServer(app, handler!, options.web, connections, gate);
  }

  handleFiles(root: string, options: FileOptions = {}): void {
    // reply.sendFile, loaded (with its file globbing and MIME tables) only by a daemon that serves files; each call
    // names its own root. A file's .br or .gz beside it (a web build's) goes to a browser that accepts that encoding.
    if (!this.servesFiles) void this.app.register(import('@fastify/static'), { root: path.parse(process.cwd()).root, serve: false, preCompressed: true });
    this.servesFiles = true;
    const open = { config: { access: 'public' }, schema: { hide: true } } as const;
    this.app.get('/', open, (_request, reply) => sendStatic(reply, root, 'index.html', options));
    for (const file of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      if (PRECOMPRESSED.test(file) || !fs.statSync(path.join(root, file), { throwIfNoEntry: false })?.isFile()) continue;
      this.app.get(`/${file.split(path.sep).join('/')}`, open, (_request, reply) => sendStatic(reply, root, file, options));
    }
  }

  handle<E extends Endpoint>(endpoint: E, handler: EndpointHandler<E>, options: HandleOptions = {}): void {
    const head = routeHead(endpoint, { ...(endpoint.body && { body: endpoint.body }), response: { [endpoint.status]: endpoint.response, '5xx': ERROR_RESPONSE } });
    this.app.route({
      ...head,
      method: endpoint.method,
      ...(endpoint.bodyLimit !== undefined && { bodyLimit: endpoint.bodyLimit }),
      config: { ...head.config, control: endpoint.control, agents: endpoint.agents, admit: options.admit },
      handler: async (request, reply) => {
        const control = { header: (name: string, value: string | readonly string[]) => void reply.header(name, value) };
        const gone = new AbortController();
        reply.raw.on('close', () => {
          // A connection the daemon cuts as it stops is not a client going away.
          if (!reply.raw.writableFinished && !this.closing) gone.abort();
        });
        const result = await handler({ ...this.requestInput(request), body: request.body, reply: control, signal: gone.signal } as RequestContext<E>);
        reply.code(endpoint.status);
        return result;
      },
    });
  }

  handleLines<E extends LinesEndpoint>(endpoint: E, handler: LinesHandler<E>): void {
    this.app.route({
      ...routeHead(endpoint, { response: { 200: { content: { [JSON_LINES]: { schema: endpoint.line } } } } }),
      method: 'GET',
      handler: async (request, reply) => {
        const lines = await handler(this.requestInput(request) as LinesContext<E>);
        // A client that goes away destroys the stream, which ends the handler's iteration.
        return reply.type(JSON_LINES).send(Readable.from(lines, { objectMode: false }));
      },
    });
  }

  /**
   * A WebSocket endpoint, listed in `/openapi.json` like any route (marked
   * `x-websocket`), so that whoever walks the description finds it; a plain
   * GET is answered 426.
   */
  handleSocket<E extends SocketEndpoint>(endpoint: E, handler: SocketHandler<E>): void {
    this.app.route({
      ...routeHead(endpoint, { [WEBSOCKET_OPERATION]: true }),
      method: 'GET',
      handler: (_request, reply) => {
        sendError(reply.header('upgrade', 'websocket'), 'upgrade_required', `${endpoint.url} is a WebSocket: open it with an Upgrade request`);
      },
      wsHandler: (socket, request) => {
        this.track(socket, principals.get(request.raw));
        if (tcpClients.has(request.raw)) this.heartbeat?.watch(socket);
        Promise.resolve()
          .then(() => handler(socket, this.requestInput(request) as SocketContext<E>))
          .catch((error: unknown) => {
            request.log.error({ err: error }, 'WebSocket handler failed');
            socket.close(1011, 'internal error');
          });
      },
    });
  }

  /**
   * Closes the WebSockets opened over TCP as `principal` (every one when it is
   * undefined): what a signed-out or revoked web session still had open.
   */
  closeWebSockets(principal?: string): void {
    for (const [owner, sockets] of this.sockets) {
      if (principal !== undefined && owner !== principal) continue;
      for (const socket of sockets) socket.close(4401, 'signed out');
    }
  }

  private requestInput(request: FastifyRequest): { params: unknown; query: unknown; origin: RequestOrigin; headers: FastifyRequest['headers'] } {
    return { params: request.params, query: request.query, origin: this.originOf(request), headers: request.headers };
  }

  /** Local only when the Unix listener accepted the connection; a TCP request the gate let through has its placing. */
  private originOf(request: FastifyRequest): RequestOrigin {
    if (this.connections.isLocal(request.raw)) return { transport: 'unix', address: 'local', secure: false };
    if (this.connections.isAgent(request.raw)) return { transport: 'unix', address: 'agents', secure: false };
    const client = tcpClients.get(request.raw);
    // The gate runs before every handler; a TCP request it did not place never reaches one.
    if (!client) throw new Error(`${request.method} ${request.url} reached a handler without passing the TCP gate`);
    return { transport: 'tcp', ...client };
  }

  private track(socket: WebSocket, principal: string | undefined): void {
    if (principal === undefined) return;
    const sockets = this.sockets.get(principal) ?? new Set<WebSocket>();
    this.sockets.set(principal, sockets.add(socket));
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) this.sockets.delete(principal);
    });
  }

  /** Listens on a Unix socket (mode 0600), replacing a stale one. */
  async listenUnix(socketPath: string): Promise<void> {
    await claimSocket(socketPath);
    await this.app.listen({ path: socketPath });
    fs.chmodSync(socketPath, 0o600);
  }

  /** Listens on the agents' socket (mode 0600), which serves only endpoints marked `agents` (the agents' hooks). */
  async listenAgents(socketPath: string): Promise<void> {
    // The home's lock makes this daemon its only one: a socket file here is a dead daemon's.
    fs.rmSync(socketPath, { force: true });
    const server = http.createServer(this.handler);
    this.connections.acceptAgents(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    fs.chmodSync(socketPath, 0o600);
    this.agents = server;
  }

  /** Listens on TCP (HTTPS with a certificate) for `--web`; resolves with the listener's URL. */
  async listenTcp(): Promise<string | undefined> {
    const web = this.web;
    if (!web) return undefined;
    const options = { requestTimeout: TCP_REQUEST_TIMEOUT_MS };
    const server = this.tcpServer(web.tls, options);
    this.connections.acceptTcp(server, web.tls !== undefined);
    // @fastify/websocket handles the upgrades of the server Fastify made; hand it this one's.
    server.on('upgrade', (request, socket, head) => this.app.server.emit('upgrade', request, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(listenRefusal(error, web.host, web.port)));
      server.listen({ host: web.host, port: web.port }, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    this.tcp = server;
    const { port } = server.address() as { port: number };
    this.gate.listening(new HostNames(web.host, port, web.allowedHosts));
    const host = web.host.includes(':') ? `[${web.host}]` : web.host;
    return `${web.tls ? 'https' : 'http'}://${host}:${port}`;
  }

  /** HTTPS with the listener's certificate (renewed as its files are), else HTTP. */
  private tcpServer(tlsFiles: TlsFiles | undefined, options: http.ServerOptions): http.Server {
    if (!tlsFiles) return http.createServer(options, this.handler);
    const server = https.createServer({ ...options, ...tlsFiles.current }, this.handler);
    this.stopWatchingTls = tlsFiles.watch((pair) => server.setSecureContext(pair), this.app.log);
    return server;
  }

  /**
   * Stops listening once the requests in flight are answered, or cuts them
   * after a grace: a hook waiting for a person would hold the stop as long.
   * The socket file goes with the listener.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.heartbeat?.close();
    this.stopWatchingTls?.();
    const tcp = this.tcp;
    const agents = this.agents;
    const closed = (server: http.Server | undefined) => (server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve());
    const othersClosed = Promise.all([closed(tcp), closed(agents)]);
    const cut = setTimeout(() => {
      tcp?.closeAllConnections();
      agents?.closeAllConnections();
      this.app.server.closeAllConnections();
    }, CLOSE_GRACE_MS).unref();
    await this.app.close();
    await othersClosed;
    clearTimeout(cut);
  }
}

/**
 * On every response: no script but the app's own files, never in a frame
 * (a signed-in terminal must not be framable by another local port's page),
 * no MIME sniffing, no referrer; HSTS when the listener speaks TLS itself.
 */
function securityHeaders(tls: boolean): FastifyHelmetOptions {
  return {
    global: true,
    contentSecurityPolicy: {
      // Helmet's defaults include upgrade-insecure-requests, which would break a plain-HTTP loopback listener.
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // xterm.js and the TOTP QR code set inline styles; scripts stay 'self' only.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'"],
        manifestSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  };
}

/** Why the TCP listener could not listen, in the words of what to do about it. */
function listenRefusal(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const refusal = (message: string): StartRefused => new StartRefused(message, { cause: error });
  if (error.code === 'EADDRINUSE') return refusal(`port ${port} on ${host} is in use by another program; choose another with --port (or web.port in config.yaml)`);
  if (error.code === 'EACCES') return refusal(`no permission to listen on port ${port} (ports below 1024 need privileges); choose another with --port`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return refusal(`${host} is not an address of this machine; choose another with --host`);
  return error;
}

const ERROR_RESPONSE = { $ref: `${ErrorBody.$id}#` };

/**
 * What every kind of endpoint states the same way: its URL, who may call it,
 * its description and validated input, and that a refusal is an error body.
 * `schema` adds the kind's own (body, responses, marks).
 */
function routeHead(endpoint: GetEndpoint, schema: { response?: Record<string, unknown>; [key: string]: unknown }) {
  return {
    url: endpoint.url,
    config: { access: endpoint.access },
    schema: {
      summary: endpoint.summary,
      tags: [...endpoint.tags],
      ...(endpoint.params && { params: endpoint.params }),
      ...(endpoint.query && { querystring: endpoint.query }),
      ...schema,
      response: { ...schema.response, '4xx': ERROR_RESPONSE },
    },
  };
}

/**
 * Parameters and query strings arrive as text and are coerced to their
 * schema's types (`?limit=5`); JSON bodies are typed already and are not, so
 * that `"args": "ls"` is refused rather than turned into `["ls"]`.
 */
function validatorCompiler() {
  const create = (options: AjvOptions): Ajv => {
    // No check of each schema against the JSON Schema meta-schema: compiling the meta-schema made the first request
    // that a schema checks (the first `ls` after a start) 30 ms slower. Strict mode still refuses unknown keywords,
    // and tests/src/daemon.test.ts checks every schema in the API description.
    const ajv = new Ajv({ useDefaults: true, removeAdditional: false, allErrors: false, validateSchema: false, ...options });
    addFormats.default(ajv);
    return ajv;
  };
  // Made at the first check, as each schema is compiled at its first use: a daemon starting checks nothing yet.
  let coercing: Ajv | undefined;
  let exact: Ajv | undefined;
  const ajvFor = (httpPart: string | undefined): Ajv => (httpPart === 'body' ? (exact ??= create({ coerceTypes: false })) : (coercing ??= create({ coerceTypes: 'array' })));
  return ({ schema, httpPart }: { schema: { $id?: string }; httpPart?: string }) => {
    let compiled: ValidateFunction | undefined;
    // Fastify reads a failed check's `errors` from the function it was given.
    const validate = (data: unknown): boolean => {
      if (!compiled) {
        const ajv = ajvFor(httpPart);
        // Ajv compiles a schema with an $id once; endpoints may share one.
        compiled = (schema.$id && ajv.getSchema(schema.$id)) || ajv.compile(schema);
      }
      const valid = compiled(data) as boolean;
      validate.errors = compiled.errors;
      return valid;
    };
    validate.errors = undefined as ValidateFunction['errors'];
    return validate;
  };
}

/**
 * Fastify's own serializers (fast-json-stringify: only the schema's fields go
 * out), each compiled at its route's first response: compiling every route's
 * validators and serializers up front took most of the daemon's start-up.
 */
function lazySerializers(): SerializerFactory {
  // Fastify asks for a compiler again at each route once a shared schema has been added (its schema controller's
  // `addedSchemas` stays set), each time with a copy of the same schemas: copying them for each route took ~5 ms of a
  // start. Each route still gets a compiler of its own, as fast-json-stringify may change the options it is given.
  let copied: { of: unknown[]; copy: unknown } | undefined;
  return (externalSchemas, options) => {
    const shared = Object.values(externalSchemas ?? {});
    if (copied === undefined || copied.of.length !== shared.length || copied.of.some((schema, i) => schema !== shared[i])) {
      copied = { of: shared, copy: forSerializers(externalSchemas) };
    }
    const compile = SerializerSelector()(copied.copy, options);
    return (route) => {
      let serialize: Serializer | undefined;
      return (data) => (serialize ??= compile(route))(data);
    };
  };
}

/**
 * The shared schemas as the serializers need them: without their `$id` (the
 * key that holds each names it) and the enums of their typed values (a
 * serializer writes a value whatever it is). fast-json-stringify checks
 * every shared schema against the JSON Schema meta-schema at each compile;
 * an `$id`'s check compiles a regular expression of 3 KB, and ErrorBody's
 * enum of all error codes (the API description keeps it) is checked for
 * duplicates pair by pair: together, 8 ms of the daemon's first answer.
 */
function forSerializers(schemas: unknown): unknown {
  if (typeof schemas !== 'object' || schemas === null) return schemas;
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $id: _named, ...rest } = JSON.parse(JSON.stringify(schema), withoutEnum) as Record<string, unknown>;
      return [id, rest];
    }),
  );
}

function withoutEnum(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('enum' in value) || !('type' in value) || typeof value.type !== 'string') return value;
  const { enum: _values, ...rest } = value;
  return rest;
}

/** What a JSON type is called in an error: `"cwd" must be text`. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  null: 'null',
};

const FORMAT_NAMES: Readonly<Record<string, string>> = { 'date-time': 'an ISO 8601 time (2026-01-31T10:00:00Z)', uri: 'a URL', email: 'an email address' };

/** `cwd`, `options.model`, `args[2]` from a JSON pointer (`/options/model`, `/args/2`). */
function fieldName(pointer: string, child?: string): string {
  const parts = pointer.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  return parts.map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

/** Where the field is: the body's fields by name, the others with their place in the request. */
function placeOf(dataVar: string, field: string): string {
  if (dataVar === 'querystring') return `query parameter "${field}"`;
  if (dataVar === 'params') return `"${field}" in the URL`;
  return field === '' ? 'the request body' : `"${field}"`;
}

/**
 * Says in words what is wrong with each field: `"cwd" must be text`,
 * `"text" must be at most 65536 characters long`, `query parameter "limit"
 * must be a whole number`, `"colour" is not a field of this request`.
 */
function describeInvalidInput(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const problems = errors.map(({ keyword, instancePath, params, message }) => {
    const at = (child?: string): string => placeOf(dataVar, fieldName(instancePath, child));
    const limit = params.limit as number;
    switch (keyword) {
      case 'additionalProperties':
        return `${at(String(params.additionalProperty))} is not a field of this request`;
      case 'required':
        return `${at(String(params.missingProperty))} is required`;
      case 'type':
        return `${at()} must be ${String(params.type).split(',').map((t) => TYPE_NAMES[t] ?? t).join(' or ')}`;
      case 'maxLength':
        return `${at()} must be at most ${limit} characters long`;
      case 'minLength':
        return limit === 1 ? `${at()} must not be empty` : `${at()} must be at least ${limit} characters long`;
      case 'maximum':
        return `${at()} must be at most ${limit}`;
      case 'minimum':
        return `${at()} must be at least ${limit}`;
      case 'maxItems':
        return `${at()} must have at most ${limit} items`;
      case 'minItems':
        return `${at()} must have at least ${limit} item${limit === 1 ? '' : 's'}`;
      case 'enum':
        return `${at()} must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
      case 'format':
        return `${at()} must be ${FORMAT_NAMES[String(params.format)] ?? `in the format ${String(params.format)}`}`;
      case 'pattern':
        return `${at()} must match ${String(params.pattern)}`;
      default:
        return `${at()} ${message ?? 'is invalid'}`;
    }
  });
  return new Error(problems.join('; '));
}

function replyWithError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorResponse(error);
  // Fastify closes the connection on a body it will not read; a client still sending it would get
  // a reset (EPIPE) instead of the 413. Node discards the rest instead, as for the gate's refusals.
  if (body.error.code === 'payload_too_large') reply.removeHeader('connection');
  if (status >= 500) request.log.error({ err: error }, `${request.method} ${request.url} failed`);
  else request.log.debug({ err: error }, `${request.method} ${request.url} refused`);
  reply.code(status).send(body);
}

function toErrorResponse(error: FastifyError): { status: number; body: ApiErrorBody } {
  if (isCodePiperError(error)) return { status: error.status, body: errorBody(error.code, error.message, error.details) };
  if (error.validation) return coded('invalid_request', error.message);
  if ((error.statusCode ?? 500) >= 500) return coded('internal_error', 'internal error; the daemon log has the details');
  return coded(FASTIFY_ERRORS[error.code] ?? 'bad_request', error.message);
}

function errorBody(code: string, message: string, details?: Record<string, unknown>): ApiErrorBody {
  return { error: { code, message, ...(details && { details }) } };
}

/** An error response with the status its code is declared with. */
const coded = (code: ErrorCode, message: string): { status: number; body: ApiErrorBody } => ({ status: ERROR_CODES[code].status, body: errorBody(code, message) });

/** A file of a web app's build, with how long a browser may keep it. */
function sendStatic(reply: FastifyReply, root: string, file: string, options: FileOptions): FastifyReply {
  if (options.immutable?.(file)) return reply.sendFile(file, root, { maxAge: IMMUTABLE_MAX_AGE_MS, immutable: true });
  // Asked again each time (answered 304 when unchanged): a new version shows at once.
  return reply.header('cache-control', 'no-cache').sendFile(file, root, { cacheControl: false });
}

function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  const { status, body } = coded(code, message);
  return reply.code(status).send(body);
}
