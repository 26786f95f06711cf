import fs from 'node:fs';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import {
  CODEPIPER_VERSION,
  ErrorBody,
  type ApiErrorBody,
  type ApiRegistrar,
  type Endpoint,
  type EndpointHandler,
  type RequestContext,
  type RequestOrigin,
  type SocketContext,
  type SocketEndpoint,
  type SocketHandler,
} from '@codepiper/sdk';
import type { TSchema } from '@sinclair/typebox';
import { Ajv, type Options as AjvOptions } from 'ajv';
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
import { claimSocket } from './socket-claim.js';

const BODY_LIMIT_BYTES = 1024 * 1024;

/** Fastify's own errors that have a code of ours; other 4xx keep their status as `bad_request`. */
const FASTIFY_ERRORS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
};

/**
 * The daemon's HTTP and WebSocket API: endpoints validated by their schemas,
 * every error as `{"error": {"code", "message"}}`, and an OpenAPI document of
 * all of it at `/openapi.json`.
 */
export class ApiServer implements ApiRegistrar {
  private constructor(private readonly app: FastifyInstance) {}

  static async create(log: FastifyBaseLogger): Promise<ApiServer> {
    const app = Fastify({
      loggerInstance: log,
      // Logged at debug by the onResponse hook below, keeping the daemon log quiet.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: BODY_LIMIT_BYTES,
      schemaErrorFormatter: describeInvalidInput,
    });
    app.setValidatorCompiler(validatorCompiler());
    app.setErrorHandler(replyWithError);
    app.setNotFoundHandler((request, reply) => {
      reply.code(404).send(errorBody('not_found', `no route for ${request.method} ${request.url}`));
    });
    app.addHook('onResponse', async (request, reply) => {
      request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    });
    app.addSchema(ErrorBody);
    // Swagger collects the routes added after it.
    await app.register(swagger, {
      openapi: { info: { title: 'CodePiper daemon API', version: CODEPIPER_VERSION } },
      refResolver: { buildLocalReference: (schema, _base, _fragment, i) => (typeof schema.$id === 'string' ? schema.$id : `def-${i}`) },
    });
    await app.register(websocket);
    app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
    return new ApiServer(app);
  }

  handle<E extends Endpoint>(endpoint: E, handler: EndpointHandler<E>): void {
    const errorResponse = { $ref: `${ErrorBody.$id}#` };
    this.app.route({
      method: endpoint.method,
      url: endpoint.url,
      schema: {
        summary: endpoint.summary,
        tags: [...endpoint.tags],
        ...inputSchemas(endpoint),
        ...(endpoint.body && { body: endpoint.body }),
        response: { [endpoint.status]: endpoint.response, '4xx': errorResponse, '5xx': errorResponse },
      },
      handler: async (request, reply) => {
        const result = await handler({ ...requestInput(request), body: request.body } as RequestContext<E>);
        reply.code(endpoint.status);
        return result;
      },
    });
  }

  handleSocket<E extends SocketEndpoint>(endpoint: E, handler: SocketHandler<E>): void {
    this.app.get(
      endpoint.url,
      { websocket: true, schema: { summary: endpoint.summary, tags: [...endpoint.tags], ...inputSchemas(endpoint) } },
      (socket, request) => {
        Promise.resolve()
          .then(() => handler(socket, requestInput(request) as SocketContext<E>))
          .catch((error: unknown) => {
            request.log.error({ err: error }, 'WebSocket handler failed');
            socket.close(1011, 'internal error');
          });
      },
    );
  }

  /** Listens on a Unix socket (mode 0600), replacing a stale one. */
  async listenUnix(socketPath: string): Promise<void> {
    await claimSocket(socketPath);
    await this.app.listen({ path: socketPath });
    fs.chmodSync(socketPath, 0o600);
  }

  /** Stops listening once the requests in flight are answered; the socket file goes with the listener. */
  async close(): Promise<void> {
    await this.app.close();
  }
}

function inputSchemas(endpoint: { params: TSchema | undefined; query: TSchema | undefined }): { params?: TSchema; querystring?: TSchema } {
  return { ...(endpoint.params && { params: endpoint.params }), ...(endpoint.query && { querystring: endpoint.query }) };
}

function requestInput(request: FastifyRequest): { params: unknown; query: unknown; origin: RequestOrigin; headers: FastifyRequest['headers'] } {
  return { params: request.params, query: request.query, origin: originOf(request), headers: request.headers };
}

/** A Unix socket peer has no address; only a TCP client does. */
function originOf(request: FastifyRequest): RequestOrigin {
  const address = request.socket.remoteAddress;
  return address === undefined ? { transport: 'unix', address: 'local' } : { transport: 'tcp', address };
}

/**
 * Parameters and query strings arrive as text and are coerced to their
 * schema's types (`?limit=5`); JSON bodies are typed already and are not, so
 * that `"args": "ls"` is refused rather than turned into `["ls"]`.
 */
function validatorCompiler() {
  const create = (options: AjvOptions): Ajv => {
    const ajv = new Ajv({ useDefaults: true, removeAdditional: false, allErrors: false, ...options });
    addFormats.default(ajv);
    return ajv;
  };
  const coercing = create({ coerceTypes: 'array' });
  const exact = create({ coerceTypes: false });
  return ({ schema, httpPart }: { schema: { $id?: string }; httpPart?: string }) => {
    const ajv = httpPart === 'body' ? exact : coercing;
    // Ajv compiles a schema with an $id once; endpoints may share one.
    return (schema.$id && ajv.getSchema(schema.$id)) || ajv.compile(schema);
  };
}

/** Names the field at fault: `body/cwd must be string`, `body/colour is not allowed`. */
function describeInvalidInput(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const problems = errors.map(({ keyword, instancePath, params, message }) =>
    keyword === 'additionalProperties'
      ? `${dataVar}${instancePath}/${String(params.additionalProperty)} is not allowed`
      : `${dataVar}${instancePath} ${message ?? 'is invalid'}`,
  );
  return new Error(problems.join(', '));
}

function replyWithError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorResponse(error);
  if (status >= 500) request.log.error({ err: error }, `${request.method} ${request.url} failed`);
  else request.log.debug({ err: error }, `${request.method} ${request.url} refused`);
  reply.code(status).send(body);
}

function toErrorResponse(error: FastifyError): { status: number; body: ApiErrorBody } {
  if (isCodePiperError(error)) return { status: error.status, body: errorBody(error.code, error.message, error.details) };
  if (error.validation) return { status: 400, body: errorBody('invalid_request', error.message) };
  const status = error.statusCode ?? 500;
  if (status >= 500) return { status: 500, body: errorBody('internal_error', 'internal error; the daemon log has the details') };
  return { status, body: errorBody(FASTIFY_ERRORS[error.code] ?? 'bad_request', error.message) };
}

/**
 * Recognised by shape rather than by class, so that a plugin built against
 * its own copy of the SDK gets its errors through too.
 */
function isCodePiperError(error: unknown): error is Error & { code: string; status: number; details?: Record<string, unknown> } {
  const candidate = error as { name?: unknown; code?: unknown; status?: unknown };
  return candidate.name === 'CodePiperError' && typeof candidate.code === 'string' && typeof candidate.status === 'number';
}

function errorBody(code: string, message: string, details?: Record<string, unknown>): ApiErrorBody {
  return { error: { code, message, ...(details && { details }) } };
}
