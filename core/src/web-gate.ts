import type { EndpointAccess, ErrorCode, HttpAuthRequest, HttpAuthVerdict } from '@codepiper/sdk';
import type { FastifyRequest } from 'fastify';
import type { HostNames } from './host-names.js';

/** Asks the plugins (the `httpAuthenticate` hook); undefined when none answers. */
export type Authenticate = (request: HttpAuthRequest) => Promise<HttpAuthVerdict | undefined>;

export interface GateOptions {
  /** Whether the listener itself speaks TLS. */
  tls: boolean;
  /** Whether `X-Forwarded-*` headers are believed (Fastify's `trustProxy` is set). */
  trustProxy: boolean;
  /** Origins besides the listener's own that may send state-changing requests and open WebSockets. */
  allowedOrigins: readonly string[];
  authenticate: Authenticate;
}

/** A request refused before any handler; its HTTP status is its code's (ERROR_CODES). */
export interface Refusal {
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
}

/** A TCP client as the gate placed it. */
export interface TcpClient {
  address: string;
  secure: boolean;
  /** The site it addressed (`https://host:port`), one the listener answers to. */
  site: string;
}

/** Let through (as the authenticator's principal, none for public routes), or refused. */
export type GateResult = { allowed: true; client: TcpClient; principal: string | null } | ({ allowed: false } & Refusal);

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The access an endpoint declared (kept in its route's config); a request no route matched is `authenticated`. */
export function accessOf(request: FastifyRequest): EndpointAccess {
  const access = (request.routeOptions.config as { access?: EndpointAccess } | undefined)?.access;
  return access ?? 'authenticated';
}

/**
 * What stands between a TCP client and an endpoint, in order: a Host the
 * listener does not answer to is refused (DNS rebinding); local-only
 * endpoints are refused; a state-changing request or a WebSocket upgrade must
 * come from the site itself or an allowed origin; anything not public needs
 * an authenticator's yes. Fails closed: no verdict is a 401.
 */
export class WebGate {
  /** Known once the listener is bound (its port is part of its names); until then every request is refused. */
  private hosts?: HostNames;

  constructor(private readonly options: GateOptions) {}

  listening(hosts: HostNames): void {
    this.hosts = hosts;
  }

  /** `peer`: the address recorded when the connection was accepted. */
  async check(request: FastifyRequest, peer: string, websocket: boolean): Promise<GateResult> {
    const client = this.place(request, peer);
    if (!client) return { allowed: false, code: 'host_not_allowed', message: `this listener does not answer to the host ${JSON.stringify(String(request.headers.host ?? '').slice(0, 200))}; add it to web.allowed_hosts` };
    const access = accessOf(request);
    if (access === 'local') return { allowed: false, code: 'local_only', message: `${request.method} ${routeOf(request)} is served to the local CLI only` };
    if (websocket || STATE_CHANGING.has(request.method)) {
      const refusal = checkOrigin(request, client.site, this.options.allowedOrigins);
      if (refusal) return { allowed: false, ...refusal };
    }
    if (access === 'public') return { allowed: true, client, principal: null };
    const verdict = await this.options.authenticate({
      method: request.method as HttpAuthRequest['method'],
      route: routeOf(request),
      headers: request.headers,
      address: client.address,
      secure: client.secure,
      site: client.site,
      websocket,
    });
    if (!verdict) return { allowed: false, code: 'unauthenticated', message: 'sign in first' };
    if (verdict.allow) return { allowed: true, client, principal: verdict.principal };
    const { allow: _allow, ...refusal } = verdict;
    return { allowed: false, ...refusal };
  }

  /** Who the client is and which site it addressed; undefined when its Host is not one of ours. */
  private place(request: FastifyRequest, peer: string): TcpClient | undefined {
    // Only a trusted proxy's X-Forwarded-Proto/-For may speak for the client; otherwise the listener and the accepted connection do.
    const secure = this.options.trustProxy ? request.protocol === 'https' : this.options.tls;
    const site = this.hosts?.siteOf(request.host, secure ? 'https' : 'http');
    if (site === undefined) return undefined;
    return { address: this.options.trustProxy ? forwardedAddress(request) ?? peer : peer, secure, site };
  }
}

/** The client's address as a trusted proxy reports it; proxy-addr throws when the connection is already gone. */
function forwardedAddress(request: FastifyRequest): string | undefined {
  try {
    return request.ip;
  } catch {
    return undefined;
  }
}

/** `Origin` must be present and be the site the request addressed or an allowed one. */
function checkOrigin(request: FastifyRequest, site: string, allowed: readonly string[]): Refusal | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return { code: 'origin_required', message: 'state-changing requests and WebSockets need an Origin header naming this site' };
  const given = origin.toLowerCase();
  if (given === site || allowed.some((entry) => entry.toLowerCase() === given)) return undefined;
  return { code: 'cross_origin', message: `requests from origin ${JSON.stringify(origin.slice(0, 200))} are not allowed` };
}

const routeOf = (request: FastifyRequest): string => request.routeOptions.url ?? request.url.split('?')[0]!;
