import { defineBailHook } from './hooks.js';
import type { HttpMethod } from './api.js';
import type { ErrorCode } from './errors.js';

/** A request that reached the daemon over TCP, before its body is read. */
export interface HttpAuthRequest {
  method: HttpMethod | 'HEAD' | 'OPTIONS';
  /** The route's URL pattern (`/sessions/:id`), as its endpoint defines it. */
  route: string;
  /** Request headers, lower-cased names. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The client's address, as a trusted proxy reports it. */
  address: string;
  /** Whether the client reached the daemon over TLS. */
  secure: boolean;
  /** The origin the client addressed (`https://host:port`), a host the listener accepts. */
  site: string;
  /** A WebSocket upgrade rather than a plain request. */
  websocket: boolean;
}

/**
 * An authenticator's answer. `allow` lets the request through as `principal`
 * (for logs: never a secret); a refusal is sent as a JSON error with that
 * code, and the code's status.
 */
export type HttpAuthVerdict =
  | { allow: true; principal: string }
  | { allow: false; code: ErrorCode; message: string; retryAfterSeconds?: number };

/**
 * The kernel asks this bail hook about every TCP request to an endpoint that
 * is not `public` (and never about the Unix socket). It fails closed: with no
 * tap, or no tap that answers, the request is refused with 401.
 */
export const httpAuthenticate = defineBailHook<HttpAuthRequest, HttpAuthVerdict>({
  name: 'kernel.httpAuthenticate',
  owner: 'kernel',
  payload: 'HttpAuthRequest → HttpAuthVerdict',
  description: 'Before a TCP request to a non-public endpoint is served (WebSocket upgrades too). No verdict: 401. An error: 500, nothing served.',
});

/** A request on the Unix socket to a control-plane endpoint (one declared `control`). */
export interface LocalControlRequest {
  method: HttpMethod;
  route: string;
  /**
   * The processes holding the client's end of the connection (Linux: found
   * through the socket's peer); empty where the platform cannot tell.
   */
  peerPids: readonly number[];
}

/** A refusal of a local control request, sent as a JSON error (`inside_session`, `unknown_sender`: 403); `undefined` lets it through. */
export interface LocalControlRefusal {
  code: ErrorCode;
  message: string;
}

/**
 * The kernel asks this bail hook before serving a control-plane endpoint
 * (policies, approvals, secrets, auth) over the Unix socket: the plugin that
 * knows the sessions refuses programs running inside one.
 */
export const localControlRequest = defineBailHook<LocalControlRequest, LocalControlRefusal>({
  name: 'kernel.localControlRequest',
  owner: 'kernel',
  payload: 'LocalControlRequest → LocalControlRefusal',
  description: 'Before a Unix socket request to a control-plane endpoint is served. A refusal: 403, nothing served. An error: 500.',
});
