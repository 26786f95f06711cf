import type { HttpMethod, LocalControlRefusal, LocalControlRequest } from '@codepiper/sdk';
import type { FastifyRequest } from 'fastify';
import { messageOf } from './errors.js';
import { peerPids } from './peer-process.js';
import type { Refusal } from './web-gate.js';

/** Asks the plugins (the `localControlRequest` hook); undefined lets the request through. */
export type CheckLocalControl = (request: LocalControlRequest) => Promise<LocalControlRefusal | undefined>;

/** Whether the endpoint a request reached is part of the control plane (kept in its route's config). */
const isControl = (request: FastifyRequest): boolean => (request.routeOptions.config as { control?: boolean } | undefined)?.control === true;

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
