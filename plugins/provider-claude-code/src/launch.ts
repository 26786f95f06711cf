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

/** What the forwarder prints for a PreToolUse it could not get an answer to: never silence, never allow. */
export const FALLBACK_ASK = JSON.stringify({
  hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'ask', permissionDecisionReason: 'CodePiper could not reach its daemon: ask the person' },
});

/** Only a permission prompt may wait for a person; other hooks give up on a silent daemon sooner. */
const QUICK_HOOK_TIMEOUT_S = 30;

/** How long the forwarder waits for the daemon on `event`. */
export function hookTimeoutS(event: string, timeoutS: number): number {
  const timeout = Math.max(1, Math.floor(timeoutS));
  return event === 'PermissionRequest' ? timeout : Math.min(timeout, QUICK_HOOK_TIMEOUT_S);
}

/**
 * Writes the session's hook forwarder: a POSIX sh script piping the hook's
 * stdin to the daemon over its Unix socket with curl, called as
 * `hook.sh <event> <timeout s>` from the settings overlay. The secret stays in
 * a 0600 curl config file (never argv). On any failure (no daemon, an HTTP
 * error, a timeout, a cut-short, empty or non-JSON answer) nothing of the
 * answer is printed: a PreToolUse then prints an explicit `ask` (exit 0), so
 * that even auto mode asks the person; any other event exits 1 silently, a
 * non-blocking hook error.
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
  await writeSecretFile(forwarderPath, forwarderScript(options.daemonSocket, curlConfigPath, hookTimeoutS('PermissionRequest', options.timeoutS)), 0o700);

  const hooks = Object.fromEntries(
    HOOK_EVENTS.map(({ name, matcher }) => {
      const timeout = hookTimeoutS(name, options.timeoutS);
      const command = `${shQuote(forwarderPath)} ${name} ${timeout}`;
      return [name, [{ ...(matcher ? { matcher: '*' } : {}), hooks: [{ type: 'command', command, timeout: timeout + 5 }] }]];
    }),
  );
  await writeSecretFile(settingsPath, `${JSON.stringify({ hooks }, null, 2)}\n`, 0o600);
  return { dir, settingsPath, forwarderPath, curlConfigPath, secret };
}

/** The forwarder; `maxTimeoutS` bounds the timeout given as its second argument. */
function forwarderScript(daemonSocket: string, curlConfigPath: string, maxTimeoutS: number): string {
  return [
    '#!/bin/sh',
    '# CodePiper: forwards a Claude Code hook event to the daemon. Generated; do not edit.',
    '# Usage: hook.sh <event> <timeout s>, the hook\'s JSON on stdin.',
    '# The answer is printed only once curl got all of it (a cut-short body is exit 18)',
    '# and it looks like one JSON object. On any failure a PreToolUse asks the person;',
    '# any other event prints nothing at all and exits 1.',
    'exec 2>/dev/null',
    'event=$1',
    `case $2 in ''|*[!0-9]*) timeout=${maxTimeoutS} ;; *) timeout=$2 ;; esac`,
    `[ "$timeout" -ge 1 ] && [ "$timeout" -le ${maxTimeoutS} ] || timeout=${maxTimeoutS}`,
    'fail() {',
    `  [ "$event" = PreToolUse ] || exit 1`,
    `  printf '%s' '${FALLBACK_ASK}'`,
    '  exit 0',
    '}',
    `answer=$(curl -s --fail --max-time "$timeout" --unix-socket ${shQuote(daemonSocket)} -K ${shQuote(curlConfigPath)} --data-binary @-) || fail`,
    `case $answer in '{'*'}') ;; *) fail ;; esac`,
    `printf '%s' "$answer"`,
    '',
  ].join('\n');
}

async function writeSecretFile(file: string, content: string, mode: number): Promise<void> {
  await writeFile(file, content, { mode });
  await chmod(file, mode);
}

/** Claude Code's transcript file: `<config dir>/projects/<cwd, non-alphanumerics as '-'>/<id>.jsonl`. */
export function computedTranscriptPath(configDir: string, cwd: string, claudeSessionId: string): string {
  return path.join(configDir, 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'), `${claudeSessionId}.jsonl`);
}
