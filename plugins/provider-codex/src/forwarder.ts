import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newHookSecret } from '@codepiper/sdk';

/** Paths we put in a shell script, single-quoted: no quote, no control character. */
const isSafePath = (p: string): boolean => p.startsWith('/') && ![...p].some((c) => c === "'" || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

export function sessionDir(pluginDir: string, sessionId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(sessionId)) throw new Error(`invalid session id ${JSON.stringify(sessionId)}`);
  return path.join(pluginDir, sessionId);
}

/**
 * Writes the session's `notify` forwarder: a POSIX sh script (0700) that posts
 * Codex's JSON (its last argument) with the session's secret to the daemon
 * over the Unix socket. The secret lives in a file of its own (0600) read by
 * the shell's `read` builtin, and the JSON goes to curl through a pipe, so
 * neither appears in any process's argv. It never prints anything on stdout
 * or stderr (curl's errors are appended to the session's notify.log).
 */
export async function writeForwarder(options: { pluginDir: string; sessionId: string; socket: string; timeoutS?: number }): Promise<string> {
  const dir = sessionDir(options.pluginDir, options.sessionId);
  for (const p of [dir, options.socket]) if (!isSafePath(p)) throw new Error(`unsupported path for the notify forwarder: ${JSON.stringify(p)}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const secretFile = path.join(dir, 'secret');
  const script = path.join(dir, 'notify.sh');
  // Keep an existing secret (resume): the running forwarder and the daemon agree on it.
  const existing = await readSecret(options.pluginDir, options.sessionId);
  if (!existing) await writeFile(secretFile, newHookSecret() + '\n', { mode: 0o600 });
  const url = `http://localhost/hooks/codex/${options.sessionId}`;
  const timeout = Math.max(1, Math.floor(options.timeoutS ?? 5));
  const text = [
    '#!/bin/sh',
    '# Written by CodePiper (provider-codex): forwards a Codex notify event to the daemon.',
    '# Prints nothing whatever happens; curl errors are appended to notify.log.',
    'exec >/dev/null 2>&1',
    'for last; do :; done',
    '[ -n "${last:-}" ] || exit 0',
    `IFS= read -r secret < '${secretFile}' || exit 0`,
    `printf '{"secret":"%s","notification":%s}' "$secret" "$last" | curl -sS --fail --max-time ${timeout} --unix-socket '${options.socket}' -H 'content-type: application/json' --data-binary @- '${url}' 2>>'${path.join(dir, 'notify.log')}'`,
    '',
  ].join('\n');
  await writeFile(script, text, { mode: 0o700 });
  await chmod(script, 0o700);
  return script;
}

export async function readSecret(pluginDir: string, sessionId: string): Promise<string | undefined> {
  try {
    const value = (await readFile(path.join(sessionDir(pluginDir, sessionId), 'secret'), 'utf8')).trim();
    return value || undefined;
  } catch {
    return undefined;
  }
}

export async function removeSessionFiles(pluginDir: string, sessionId: string): Promise<void> {
  await rm(sessionDir(pluginDir, sessionId), { recursive: true, force: true });
}
