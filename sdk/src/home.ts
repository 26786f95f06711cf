import os from 'node:os';
import path from 'node:path';

/** `$CODEPIPER_HOME`, or `~/.codepiper`; always absolute. The one rule every client and the daemon share. */
export function codepiperHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return path.resolve(env.CODEPIPER_HOME || path.join(env.HOME || os.homedir(), '.codepiper'));
}

/** The daemon's API socket inside a home. */
export const daemonSocketPath = (home: string): string => path.join(home, 'daemon.sock');

/** The daemon's database inside a home. */
export const databasePath = (home: string): string => path.join(home, 'codepiper.db');
