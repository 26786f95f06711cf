import { ApiClient, codepiperHome, DaemonUnreachableError, daemonEndpoints, daemonSocketPath, type EndpointResponse } from '@codepiper/sdk';

/** A client for the daemon of `home`, over its Unix socket. */
export const connect = (home: string = codepiperHome()): ApiClient => new ApiClient({ socketPath: daemonSocketPath(home) });

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
