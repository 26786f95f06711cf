import { ApiClient, codepiperHome, DaemonUnreachableError, daemonEndpoints, daemonSocketPath, type EndpointResponse } from '@codepiper/sdk';

/** A client for the daemon of `home`, over its Unix socket. */
export const connect = (home: string = codepiperHome()): ApiClient => new ApiClient({ socketPath: daemonSocketPath(home) });

export type DaemonStatus = EndpointResponse<typeof daemonEndpoints.status>;

/** The daemon's status, or undefined when no daemon listens. */
export async function daemonStatus(client: ApiClient): Promise<DaemonStatus | undefined> {
  try {
    return await client.call(daemonEndpoints.status);
  } catch (error) {
    if (error instanceof DaemonUnreachableError) return undefined;
    throw error;
  }
}
