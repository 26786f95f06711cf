import { ApiClient, codepiperHome, DaemonUnreachableError, daemonEndpoints, daemonSocketPath, type EndpointResponse } from '@codepiper/sdk';
import { findRemote, type Remote } from './remotes.js';

/** The remote `--remote NAME` chose for this command line; else `$CODEPIPER_REMOTE`, else `remote use`'s. */
let chosenRemote: string | undefined;

export function chooseRemote(name: string | undefined): void {
  chosenRemote = name;
}

/** The remote daemon this command line talks to; undefined: the local one. */
export const activeRemote = (): Remote | undefined => findRemote(chosenRemote ?? (process.env.CODEPIPER_REMOTE || undefined));

/** A client of a remote daemon, signed in with its token; it says where it comes from, as the listener asks of every change. */
export const remoteClient = (remote: Pick<Remote, 'url' | 'token'>): ApiClient =>
  new ApiClient({ baseUrl: remote.url, headers: { authorization: `Bearer ${remote.token}`, origin: new URL(remote.url).origin } });

/**
 * A client for the daemon this command line talks to: the remote one chosen,
 * else the local one, over its Unix socket. Given a `home`, always that local
 * daemon's (the `daemon` commands manage the one on this machine).
 */
export function connect(home?: string): ApiClient {
  const remote = home === undefined ? activeRemote() : undefined;
  return remote ? remoteClient(remote) : new ApiClient({ socketPath: daemonSocketPath(home ?? codepiperHome()) });
}

export type DaemonStatus = EndpointResponse<typeof daemonEndpoints.status>;

/** What `request` resolves with, or undefined when no daemon listens; any other failure is thrown. */
export async function unlessNoDaemon<T>(request: () => Promise<T>): Promise<T | undefined> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof DaemonUnreachableError) return undefined;
    throw error;
  }
}

/** The daemon's status, or undefined when no daemon listens. */
export const daemonStatus = (client: ApiClient): Promise<DaemonStatus | undefined> => unlessNoDaemon(() => client.call(daemonEndpoints.status));
