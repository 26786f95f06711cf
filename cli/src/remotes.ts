import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A daemon on another machine, as `remote add` saved it. */
export interface Remote {
  name: string;
  /** Its origin: `https://host:port`. */
  url: string;
  /** The personal access token this CLI signs in with. */
  token: string;
}

interface StoredRemote {
  url: string;
  /** The token, AES-256-GCM under the key beside the file: base64 of iv, tag, ciphertext. */
  token: { iv: string; tag: string; data: string };
}

interface RemotesFile {
  /** The remote every command uses without `--remote`; null: the local daemon. */
  current: string | null;
  remotes: Record<string, StoredRemote>;
}

/** Where the CLI keeps what is its own (not the daemon's): `$XDG_CONFIG_HOME/codepiper`, else `~/.config/codepiper`. */
export const configDir = (): string => path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'codepiper');
const remotesFile = (): string => path.join(configDir(), 'remotes.json');
const keyFile = (): string => path.join(configDir(), 'remotes.key');

const EMPTY: RemotesFile = { current: null, remotes: {} };

function load(): RemotesFile {
  const file = remotesFile();
  if (!existsSync(file)) return EMPTY;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RemotesFile;
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message} (fix or remove it, then add the remotes again)`, { cause: error });
  }
}

/** Written whole, then renamed over the old file: a crash leaves the old one or the new one, at mode 0600. */
function save(remotes: RemotesFile): void {
  const file = remotesFile();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(remotes, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** node:crypto, loaded (~5 ms) only by a command that reads or saves a remote's token, not by every command. */
const crypto = () => process.getBuiltinModule('node:crypto');

/** The key the tokens are encrypted with, made on first use (mode 0600). */
function key(create: boolean): Buffer {
  const file = keyFile();
  if (existsSync(file)) return readFileSync(file);
  if (!create) throw new Error(`${file} is missing: the saved tokens cannot be read (add the remotes again)`);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fresh = crypto().randomBytes(32);
  writeFileSync(file, fresh, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return fresh;
}

function seal(token: string): StoredRemote['token'] {
  const iv = crypto().randomBytes(12);
  const cipher = crypto().createCipheriv('aes-256-gcm', key(true), iv);
  const data = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

function open(sealed: StoredRemote['token']): string {
  const decipher = crypto().createDecipheriv('aes-256-gcm', key(false), Buffer.from(sealed.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
}

export function listRemotes(): { current: string | null; remotes: { name: string; url: string }[] } {
  const file = load();
  return { current: file.current, remotes: Object.entries(file.remotes).map(([name, remote]) => ({ name, url: remote.url })) };
}

export function saveRemote(remote: Remote): void {
  const file = load();
  save({ ...file, remotes: { ...file.remotes, [remote.name]: { url: remote.url, token: seal(remote.token) } } });
}

export function removeRemote(name: string): void {
  const file = load();
  if (!(name in file.remotes)) throw unknownRemote(name);
  const { [name]: _removed, ...rest } = file.remotes;
  save({ current: file.current === name ? null : file.current, remotes: rest });
}

/** Makes `name` the remote every command uses (null: the local daemon again). */
export function useRemote(name: string | null): void {
  const file = load();
  if (name !== null && !(name in file.remotes)) throw unknownRemote(name);
  save({ ...file, current: name });
}

/** The remote `name` with its token; with no name, the current one, if any. */
export function findRemote(name?: string): Remote | undefined {
  if (name === undefined && !existsSync(remotesFile())) return undefined;
  const file = load();
  const chosen = name ?? file.current;
  if (chosen === null) return undefined;
  const stored = file.remotes[chosen];
  if (!stored) throw unknownRemote(chosen);
  return { name: chosen, url: stored.url, token: open(stored.token) };
}

const unknownRemote = (name: string): Error => new Error(`no remote named "${name}" (see: codepiper remote list)`);
