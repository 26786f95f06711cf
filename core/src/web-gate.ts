import type { EndpointAccess, HttpAuthRequest, HttpAuthVerdict } from '@codepiper/sdk';
import type { FastifyRequest } from 'fastify';

/** Asks the plugins (the `httpAuthenticate` hook); undefined when none answers. */
export type Authenticate = (request: HttpAuthRequest) => Promise<HttpAuthVerdict | undefined>;

export interface GateOptions {
  /** Origins besides the listener's own that may send state-changing requests and open WebSockets. */
  allowedOrigins: readonly string[];
  authenticate: Authenticate;
}

export interface Refusal {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The access an endpoint declared (kept in its route's config); a request no route matched is `authenticated`. */
export function accessOf(request: FastifyRequest): EndpointAccess {
  const access = (request.routeOptions.config as { access?: EndpointAccess } | undefined)?.access;
  return access ?? 'authenticated';
}

/**
 * What stands between a TCP client and an endpoint, in order: local-only
 * endpoints are refused; a state-changing request or a WebSocket upgrade must
 * come from the listener's own origin or an allowed one; anything not public
 * needs an authenticator's yes. Fails closed: no verdict is a 401.
 */
/** Let through (as the authenticator's principal, none for public routes), or refused. */
export type GateResult = { allowed: true; principal: string | null } | ({ allowed: false } & Refusal);

export async function checkTcpRequest(request: FastifyRequest, websocket: boolean, options: GateOptions): Promise<GateResult> {
  const access = accessOf(request);
  if (access === 'local') return { allowed: false, status: 403, code: 'local_only', message: `${request.method} ${routeOf(request)} is served to the local CLI only` };
  if (websocket || STATE_CHANGING.has(request.method)) {
    const refusal = checkOrigin(request, options.allowedOrigins);
    if (refusal) return { allowed: false, ...refusal };
  }
  if (access === 'public') return { allowed: true, principal: null };
  const verdict = await options.authenticate({
    method: request.method as HttpAuthRequest['method'],
    route: routeOf(request),
    headers: request.headers,
    address: request.ip,
    secure: request.protocol === 'https',
    websocket,
  });
  if (!verdict) return { allowed: false, status: 401, code: 'unauthenticated', message: 'sign in first' };
  if (verdict.allow) return { allowed: true, principal: verdict.principal };
  const { allow: _allow, ...refusal } = verdict;
  return { allowed: false, ...refusal };
}

/** `Origin` must be present and be this listener's own (scheme, host and port) or an allowed one. */
function checkOrigin(request: FastifyRequest, allowed: readonly string[]): Refusal | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return { status: 403, code: 'origin_required', message: 'state-changing requests and WebSockets need an Origin header naming this site' };
  const own = `${request.protocol}://${request.host}`.toLowerCase();
  const given = origin.toLowerCase();
  if (given === own || allowed.some((entry) => entry.toLowerCase() === given)) return undefined;
  return { status: 403, code: 'cross_origin', message: `requests from origin ${JSON.stringify(origin.slice(0, 200))} are not allowed` };
}

const routeOf = (request: FastifyRequest): string => request.routeOptions.url ?? request.url.split('?')[0]!;
