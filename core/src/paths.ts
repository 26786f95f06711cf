import fs from 'node:fs';
import path from 'node:path';
import { codepiperHome, daemonSocketPath, databasePath, type DaemonPaths } from '@codepiper/sdk';

export type Env = Readonly<Record<string, string | undefined>>;

/** `sockaddr_un.sun_path` holds 108 bytes, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface KernelPaths extends DaemonPaths {
  config: string;
  database: string;
  logFile: string;
  pidFile: string;
}

/** Where the daemon keeps its files: `$CODEPIPER_HOME`, or `~/.codepiper`. Creates nothing but plugin directories. */
export function resolvePaths(env: Env = process.env): KernelPaths {
  const home = codepiperHome(env);
  const socket = daemonSocketPath(home);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `the socket path ${socket} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a Unix socket path may have: set CODEPIPER_HOME to a shorter directory`,
    );
  }
  const logs = path.join(home, 'logs');
  const run = path.join(home, 'run');
  return {
    home,
    socket,
    logs,
    run,
    config: path.join(home, 'config.yaml'),
    database: databasePath(home),
    logFile: path.join(logs, 'daemon.log'),
    pidFile: path.join(run, 'daemon.pid'),
    pluginData(plugin) {
      if (!/^[a-z][a-z0-9-]*$/.test(plugin)) throw new Error(`"${plugin}" is not a plugin name`);
      const dir = path.join(home, 'plugins', plugin);
      makePrivateDir(dir);
      return dir;
    },
  };
}

/** Creates the home directory and its `logs/` and `run/`, readable by the owner only. */
export function ensureHome(paths: KernelPaths): void {
  for (const dir of [paths.home, paths.logs, paths.run]) makePrivateDir(dir);
}

/** Removes whatever an earlier daemon left in `run/`. */
export function emptyRunDir(paths: KernelPaths): void {
  for (const entry of fs.readdirSync(paths.run)) fs.rmSync(path.join(paths.run, entry), { recursive: true, force: true });
}

function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((fs.statSync(dir).mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}
