import { createSignal } from 'solid-js';
import { ApiError, expandUrl, type AnyEndpoint, type EndpointBody, type EndpointParams, type EndpointQuery, type EndpointResponse, type SocketEndpoint } from '@codepiper/sdk/browser';

export { ApiError };

type Input<E> = (EndpointParams<E> extends undefined ? { params?: undefined } : { params: EndpointParams<E> }) &
  (EndpointQuery<E> extends undefined ? { query?: undefined } : { query?: EndpointQuery<E> }) &
  (EndpointBody<E> extends undefined ? { body?: undefined } : { body: EndpointBody<E> });

/** False once the daemon has answered 401: the app shows the sign-in screen. */
const [signedIn, setSignedIn] = createSignal(true);
export { setSignedIn, signedIn };

/**
 * Calls an endpoint of the daemon this page came from, typed by the SDK's
 * definition. The session cookie goes along; errors are ApiErrors with the
 * daemon's message.
 */
export async function call<E extends AnyEndpoint>(endpoint: E, ...[input]: object extends Input<E> ? [Input<E>?] : [Input<E>]): Promise<EndpointResponse<E>> {
  const i = (input ?? {}) as { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown };
  return (await request(endpoint.method, expandUrl(endpoint.url, i.params, i.query), i.body)) as EndpointResponse<E>;
}

/** GETs a path the daemon described itself (a plugin's contributed page): its answer, untyped. */
export const getPath = (url: string): Promise<unknown> => request('GET', url, undefined);

async function request(method: string, url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    if (response.status === 401) setSignedIn(false);
    const error = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
    throw new ApiError(response.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${response.status}`, error?.details);
  }
  return parsed;
}

/** A WebSocket to a socket endpoint of this daemon (same origin, so the session cookie goes along). */
export function openSocket(endpoint: SocketEndpoint, params?: Record<string, unknown>, query?: Record<string, unknown>): WebSocket {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}${expandUrl(endpoint.url, params, query)}`);
  socket.binaryType = 'arraybuffer';
  return socket;
}

/** An error as one line for the page. */
export const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
