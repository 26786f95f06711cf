import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Host } from '@codepiper/hosts-contract';

/** Where ssh looks for what is the user's: their home (`HOME`, as every other tool of ours reads it) and the daemon's directory for connections. */
export interface SshPlaces {
  home: string;
  /** Each host's control socket is here, under the host's name. */
  sockets: string;
  /** The daemon's agents' socket, forwarded to each host (see `HostConnection`). */
  agentSocket: string;
}

/** A host as ssh reaches it. */
export type SshTarget = Pick<Host, 'name' | 'destination' | 'port' | 'identity'>;

export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How long the first connection to a host may take before it is called unreachable. */
const CONNECT_TIMEOUT_S = 10;

/**
 * The options of every ssh the daemon runs. Host keys are checked against
 * the user's known_hosts, never accepted unseen; no password is ever asked
 * (keys come from the user's agent or the identity file). Commands share the
 * host's one connection (OpenSSH's ControlMaster) that `master` opens.
 */
export function sshOptions(target: SshTarget, places: SshPlaces, role: 'master' | 'client' = 'client'): string[] {
  const config = path.join(places.home, '.ssh', 'config');
  return [
    // Their own config (aliases, ProxyJump) when they have one; options given here come first and win.
    '-F',
    existsSync(config) ? config : '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${path.join(places.home, '.ssh', 'known_hosts')}`,
    '-o', `ConnectTimeout=${CONNECT_TIMEOUT_S}`,
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=3',
    '-o', `ControlMaster=${role === 'master' ? 'yes' : 'no'}`,
    '-o', `ControlPath=${controlSocket(target, places)}`,
    ...(target.port === null ? [] : ['-p', String(target.port)]),
    ...(target.identity === null ? [] : ['-i', target.identity, '-o', 'IdentitiesOnly=yes']),
  ];
}

/** The control socket of a host's connection, there while the connection is up. */
export const controlSocket = (target: SshTarget, places: SshPlaces): string => path.join(places.sockets, target.name);

/**
 * Runs `command` on the host (ssh hands it to the remote user's shell: only
 * fixed text of ours, never a user's), `input` on its stdin. Never through a
 * local shell.
 */
export function runSsh(target: SshTarget, places: SshPlaces, command: string, options: { input?: string; timeoutMs?: number } = {}): Promise<SshResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'ssh',
      [...sshOptions(target, places), '--', target.destination, command],
      { timeout: options.timeoutMs ?? 30_000, encoding: 'utf8', maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr: error && code === null && !stderr ? error.message : stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * Asks the host's connection, by its control socket, whether it is up
 * (`check`), to end now with every session over it (`exit`), or to take no
 * new ones and end after the last (`stop`).
 */
export function controlConnection(target: SshTarget, places: SshPlaces, command: 'check' | 'exit' | 'stop'): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('ssh', [...sshOptions(target, places), '-O', command, '--', target.destination], { timeout: 10_000 }, (error) => resolve(!error));
  });
}

/** Asks the host's connection to forward a socket there (`remote`) to one here (`local`). */
export function forwardSocket(target: SshTarget, places: SshPlaces, remote: string, local: string): Promise<SshResult> {
  return new Promise((resolve) => {
    execFile('ssh', [...sshOptions(target, places), '-O', 'forward', '-R', `${remote}:${local}`, '--', target.destination], { timeout: 10_000, encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/**
 * A command for the host's login shell (whatever it is: sh, bash, zsh, fish)
 * that runs `script` in sh: the login shell sees only fixed text and base64,
 * no character any shell reads.
 */
export const inSh = (script: string): string => `exec sh -c "$(echo ${Buffer.from(script).toString('base64')} | base64 -d)"`;

/** POSIX single quotes, which no character inside escapes. */
export const shQuote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/** What went wrong, in words a user can act on, from what ssh printed. */
export function describeSshFailure(target: SshTarget, result: SshResult): string {
  const where = `${target.destination}${target.port === null ? '' : ` port ${target.port}`}`;
  const said = result.stderr;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(said)) {
    return `the host key of ${where} is not the one in known_hosts: someone may be intercepting the connection, or the host was reinstalled. Check its fingerprint with its owner, then correct ~/.ssh/known_hosts`;
  }
  if (/Host key verification failed|No \S+ host key is known/.test(said)) {
    return `the host key of ${where} is not in ~/.ssh/known_hosts: connect once with ssh${target.port === null ? '' : ` -p ${target.port}`} ${target.destination}, check the fingerprint it shows, and try again`;
  }
  if (/Permission denied/.test(said)) return `${where} refused our keys (the ssh agent’s${target.identity === null ? '' : `, and ${target.identity}`}): ${lastLine(said)}`;
  if (result.code === null && !said) return `${where} did not answer in time`;
  return lastLine(said) || `ssh to ${where} ended with code ${result.code}`;
}

const lastLine = (text: string): string =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1) ?? '';
