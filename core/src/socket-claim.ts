import fs from 'node:fs';
import { ApiClient, daemonEndpoints, DaemonUnreachableError, raceTimeout } from '@codepiper/sdk';

const PROBE_TIMEOUT_MS = 2000;

/**
 * Makes `socketPath` free to listen on: fails if a daemon answers there, and
 * removes the socket file a dead daemon left behind.
 */
export async function claimSocket(socketPath: string): Promise<void> {
  const stat = fs.lstatSync(socketPath, { throwIfNoEntry: false });
  if (!stat) return;
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket; move it away`);
  const pid = await runningDaemonPid(socketPath);
  if (pid !== undefined) throw new Error(`a daemon is already running (pid ${pid}), listening on ${socketPath}`);
  fs.rmSync(socketPath, { force: true });
}

/** The pid of the daemon answering on the socket (`unknown` if it answers oddly), or undefined if nothing listens. */
export async function runningDaemonPid(socketPath: string): Promise<number | 'unknown' | undefined> {
  try {
    const status = await raceTimeout(new ApiClient({ socketPath }).call(daemonEndpoints.status), PROBE_TIMEOUT_MS);
    return status?.pid ?? 'unknown';
  } catch (error) {
    return error instanceof DaemonUnreachableError ? undefined : 'unknown';
  }
}
