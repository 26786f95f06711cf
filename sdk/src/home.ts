import os from 'node:os';
import path from 'node:path';

/** `$CODEPIPER_HOME`, or `~/.codepiper`; always absolute. The one rule every client and the daemon share. */
export function codepiperHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return path.resolve(env.CODEPIPER_HOME || path.join(env.HOME || os.homedir(), '.codepiper'));
}

/** The daemon's API socket inside a home. */
export const daemonSocketPath = (home: string): string => path.join(home, 'daemon.sock');

/**
 * The agents' socket inside a home: it serves only the agents' hook
 * endpoints (each authenticated by its session's secret), so that it can be
 * forwarded to another host without handing that host the daemon.
 */
export const agentSocketPath = (home: string): string => path.join(home, 'run', 'agents.sock');

/** The daemon's database inside a home. */
export const databasePath = (home: string): string => path.join(home, 'codepiper.db');
