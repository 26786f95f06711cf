import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newHookSecret } from '@codepiper/sdk';

/** The hook events CodePiper listens to; those with a matcher get `"*"`. */
export const HOOK_EVENTS: readonly { name: string; matcher: boolean }[] = [
  { name: 'SessionStart', matcher: true },
  { name: 'UserPromptSubmit', matcher: false },
  { name: 'PreToolUse', matcher: true },
  { name: 'PermissionRequest', matcher: true },
  { name: 'PostToolUse', matcher: true },
  { name: 'Notification', matcher: true },
  { name: 'Stop', matcher: false },
  { name: 'StopFailure', matcher: false },
  { name: 'SubagentStop', matcher: false },
  { name: 'PreCompact', matcher: true },
  { name: 'SessionEnd', matcher: false },
];

export interface SessionFiles {
  dir: string;
  settingsPath: string;
  forwarderPath: string;
  curlConfigPath: string;
  /** The per-session secret, hex; only ever written to the 0600 curl config. */
  secret: string;
}

const hasControl = (value: string): boolean => [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Single-quotes a path for sh; refuses anything that is not a plain path. */
export function shQuote(value: string): string {
  if (value.includes("'") || hasControl(value)) throw new Error(`unsafe path for the hook forwarder: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/** A value inside a curl config file's double quotes. */
function curlQuote(value: string): string {
  if (/["\\]/.test(value) || hasControl(value)) throw new Error(`unsafe value for the hook forwarder: ${JSON.stringify(value)}`);
  return `"${value}"`;
}

/**
 * Writes the session's hook forwarder: a POSIX sh script piping the hook's
 * stdin to the daemon over its Unix socket with curl. The secret stays in a
 * 0600 curl config file (never argv). Any failure exits 1 with nothing on
 * stdout or stderr: a non-blocking hook error, so Claude falls back to its own
 * prompt.
 */
export async function writeSessionFiles(options: {
  dir: string;
  sessionId: string;
  daemonSocket: string;
  timeoutS: number;
}): Promise<SessionFiles> {
  const { dir, sessionId } = options;
  if (!/^[0-9a-f-]{36}$/.test(sessionId)) throw new Error(`unexpected session id ${JSON.stringify(sessionId)}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const secret = newHookSecret();
  const settingsPath = path.join(dir, 'settings.json');
  const forwarderPath = path.join(dir, 'hook.sh');
  const curlConfigPath = path.join(dir, 'hook.curl');

  const curlConfig = [
    `url = ${curlQuote(`http://codepiper/hooks/claude-code/${sessionId}`)}`,
    `header = ${curlQuote(`Authorization: Bearer ${secret}`)}`,
    `header = "Content-Type: application/json"`,
    '',
  ].join('\n');
  await writeSecretFile(curlConfigPath, curlConfig, 0o600);

  const timeout = Math.max(1, Math.floor(options.timeoutS));
  const script = [
    '#!/bin/sh',
    '# CodePiper: forwards a Claude Code hook event to the daemon. Generated; do not edit.',
    '# The answer is printed only once curl got all of it (a cut-short body is exit 18);',
    '# any failure prints nothing at all and exits 1.',
    'exec 2>/dev/null',
    `answer=$(curl -s --fail --max-time ${timeout} --unix-socket ${shQuote(options.daemonSocket)} -K ${shQuote(curlConfigPath)} --data-binary @-) || exit 1`,
    '[ -n "$answer" ] || exit 1',
    `printf '%s' "$answer"`,
    '',
  ].join('\n');
  await writeSecretFile(forwarderPath, script, 0o700);

  const command = shQuote(forwarderPath);
  const hooks = Object.fromEntries(
    HOOK_EVENTS.map(({ name, matcher }) => [name, [{ ...(matcher ? { matcher: '*' } : {}), hooks: [{ type: 'command', command, timeout: timeout + 5 }] }]]),
  );
  await writeSecretFile(settingsPath, `${JSON.stringify({ hooks }, null, 2)}\n`, 0o600);
  return { dir, settingsPath, forwarderPath, curlConfigPath, secret };
}

async function writeSecretFile(file: string, content: string, mode: number): Promise<void> {
  await writeFile(file, content, { mode });
  await chmod(file, mode);
}

/** Claude Code's transcript file: `<config dir>/projects/<cwd, non-alphanumerics as '-'>/<id>.jsonl`. */
export function computedTranscriptPath(configDir: string, cwd: string, claudeSessionId: string): string {
  return path.join(configDir, 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'), `${claudeSessionId}.jsonl`);
}
