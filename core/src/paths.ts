import fs from 'node:fs';
import path from 'node:path';
import { agentSocketPath, codepiperHome, daemonSocketPath, databasePath, type DaemonPaths } from '@codepiper/sdk';

export type Env = Readonly<Record<string, string | undefined>>;

/** `sockaddr_un.sun_path` holds 108 bytes, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface KernelPaths extends DaemonPaths {
  config: string;
  database: string;
  logFile: string;
  pidFile: string;
}

/**
 * Where the daemon keeps its files: `$CODEPIPER_HOME`, or `~/.codepiper`.
 * Creates nothing but plugin directories, which are checked like the home
 * (see `ensureHome`).
 */
export function resolvePaths(env: Env = process.env): KernelPaths {
  const home = codepiperHome(env);
  const socket = daemonSocketPath(home);
  const agentSocket = agentSocketPath(home);
  for (const file of [socket, agentSocket]) {
    if (Buffer.byteLength(file) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(`the socket path ${file} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a Unix socket path may have: set CODEPIPER_HOME to a shorter directory`);
    }
  }
  const logs = path.join(home, 'logs');
  const run = path.join(home, 'run');
  return {
    home,
    socket,
    agentSocket,
    logs,
    run,
    config: path.join(home, 'config.yaml'),
    database: databasePath(home),
    logFile: path.join(logs, 'daemon.log'),
    pidFile: path.join(run, 'daemon.pid'),
    pluginData(plugin) {
      if (!/^[a-z][a-z0-9-]*$/.test(plugin)) throw new Error(`"${plugin}" is not a plugin name`);
      const dir = path.join(home, 'plugins', plugin);
      makePrivateDir(path.dirname(dir));
      makePrivateDir(dir);
      return dir;
    },
  };
}

/**
 * Creates the home directory and its `logs/` and `run/`, readable by the
 * owner only, and checks them, the socket's directory, `plugins/` and each
 * `plugins/<name>/`: it throws, rather than fixing the mode, if one belongs
 * to another user or others can write to it, since they could already have
 * put a config.yaml (whose `plugins:` load code) or a key file there. Call it
 * before reading anything from the home.
 */
export function ensureHome(paths: KernelPaths): void {
  const dirs = new Set([paths.home, path.dirname(paths.socket), paths.logs, paths.run]);
  for (const dir of dirs) makePrivateDir(dir);
  for (const dir of existingPluginDirs(path.join(paths.home, 'plugins'))) checkPrivateDir(dir);
}

/** Removes whatever an earlier daemon left in `run/`. */
export function emptyRunDir(paths: KernelPaths): void {
  for (const entry of fs.readdirSync(paths.run)) fs.rmSync(path.join(paths.run, entry), { recursive: true, force: true });
}

/** `plugins/` and the directories in it, those that exist. */
function existingPluginDirs(root: string): string[] {
  if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) return [];
  const children = fs.readdirSync(root).map((name) => path.join(root, name));
  return [root, ...children.filter((child) => fs.statSync(child, { throwIfNoEntry: false })?.isDirectory())];
}

function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivateDir(dir);
}

/**
 * Throws if `dir` belongs to another user, or its group or others may write to it;
 * takes away the read and search bits group and others have (harmless).
 *
 * `dir` may be a symbolic link: what is checked is the directory it leads to
 * (stat follows links), and the link must belong to us or root, because
 * whoever owns a link in a shared directory such as /tmp can repoint it later.
 * The directories above are not checked.
 */
function checkPrivateDir(dir: string): void {
  const uid = process.geteuid?.();
  if (uid === undefined) return; // no POSIX owners (Windows)
  const link = fs.lstatSync(dir);
  if (link.isSymbolicLink() && link.uid !== uid && link.uid !== 0) {
    throw new Error(`${dir} is a symbolic link that belongs to uid ${link.uid}, not to the daemon's user (uid ${uid}) or root, so its owner could point it elsewhere: replace it with a link or a directory of your own`);
  }
  const stat = fs.statSync(dir);
  const target = link.isSymbolicLink() ? fs.realpathSync(dir) : dir;
  const where = target === dir ? dir : `${dir} (a link to ${target})`;
  if (!stat.isDirectory()) throw new Error(`${where} is not a directory: move it away`);
  if (stat.uid !== uid) {
    throw new Error(`${where} belongs to uid ${stat.uid}, not to the daemon's user (uid ${uid}): use a directory of your own (CODEPIPER_HOME), or, if it is yours, check its contents, then: chown ${uid} ${target}`);
  }
  if ((stat.mode & 0o022) !== 0) {
    throw new Error(`${where} is writable by ${writers(stat.mode)} (mode ${octal(stat.mode)}), so someone else could have put files in it: check its contents, then: chmod 700 ${target}`);
  }
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

const writers = (mode: number): string => [(mode & 0o020) !== 0 && 'its group', (mode & 0o002) !== 0 && 'others'].filter(Boolean).join(' and ');

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');
