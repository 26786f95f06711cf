import type { ControlTest, HttpMethod, LocalControlRefusal, LocalControlRequest } from '@codepiper/sdk';
import type { FastifyRequest } from 'fastify';
import { messageOf } from './errors.js';
import { peerPids } from './peer-process.js';
import type { Refusal } from './web-gate.js';

/** Asks the plugins (the `localControlRequest` hook); undefined lets the request through. */
export type CheckLocalControl = (request: LocalControlRequest) => Promise<LocalControlRefusal | undefined>;

/** What a request's endpoint says of the control plane: always, never, or a test of the body (kept in its route's config). */
const controlOf = (request: FastifyRequest): boolean | ControlTest | undefined => (request.routeOptions.config as { control?: boolean | ControlTest } | undefined)?.control;

/**
 * Whether a request is part of the control plane, as its endpoint says (kept
 * in its route's config): always, or by a test of its body, which answers
 * only once the body is parsed (`decidedByBody`: asked again then).
 */
function isControl(request: FastifyRequest): boolean {
  const control = controlOf(request);
  return control === true || (typeof control === 'function' && request.body !== undefined && control(request.body));
}

/** Whether a request's endpoint tells a control-plane request by its body: it is checked again once the body is parsed. */
export const decidedByBody = (request: FastifyRequest): boolean => typeof controlOf(request) === 'function';

/**
 * What stands between a Unix socket client and a control-plane endpoint: the
 * plugins are told which processes sent it and may refuse. A sender that
 * cannot be found (the platform could, but did not) is refused: a request
 * whose client is already gone is not served blind.
 */
export async function checkLocalRequest(request: FastifyRequest, check: CheckLocalControl): Promise<Refusal | undefined> {
  if (!isControl(request)) return undefined;
  const route = request.routeOptions.url ?? request.url;
  let pids: number[];
  try {
    pids = await peerPids(request.raw.socket);
  } catch (error) {
    return { code: 'unknown_sender', message: `${request.method} ${route} changes what governs the agents, and the program that sent it cannot be identified (${messageOf(error)})` };
  }
  const refusal = await check({ method: request.method as HttpMethod, route, peerPids: pids });
  return refusal;
}
