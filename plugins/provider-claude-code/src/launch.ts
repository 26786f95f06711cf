import path from 'node:path';
import { hookForwarder, newHookSecret, PERSON_WAIT_S, writePrivateFiles, type ForwarderScriptOptions } from '@codepiper/sessions-contract/agent-hooks';
import type { PrivateFile } from '@codepiper/sessions-contract';

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
  /** Names the forwarder script's content (see refreshForwarder). */
  forwarderDigest: string;
}

/** What the forwarder prints for a PreToolUse it could not get an answer to: never silence, never allow. */
export const FALLBACK_ASK = JSON.stringify({
  hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'ask', permissionDecisionReason: 'CodePiper could not reach its daemon: ask the person' },
});

/**
 * The forwarder of a session whose files are in `dir`, reaching the daemon at
 * `daemonSocket`. A PreToolUse the daemon could not answer is answered an
 * explicit `ask`, so that even auto mode asks the person; any other event then
 * exits 1 silently, a non-blocking hook error.
 */
export const forwarderScriptOptions = (dir: string, daemonSocket: string): ForwarderScriptOptions => ({
  dir,
  socket: daemonSocket,
  maxTimeoutS: PERSON_WAIT_S,
  fallbacks: { PreToolUse: { stdout: FALLBACK_ASK, exit: 0 } },
});

/**
 * Writes the session's hook forwarder (see hookForwarder) and the settings
 * overlay that calls it for every event CodePiper listens to, with
 * `writeFiles` (where the program runs; this machine by default).
 */
export async function writeSessionFiles(
  options: {
    dir: string;
    sessionId: string;
    /** The daemon's agents' socket, as the program reaches it. */
    daemonSocket: string;
    /** How long a hook other than a permission prompt waits for the daemon. */
    timeoutS: number;
  },
  writeFiles: (files: readonly PrivateFile[]) => Promise<void> = writePrivateFiles,
): Promise<SessionFiles> {
  const { dir, sessionId } = options;
  if (!/^[0-9a-f-]{36}$/.test(sessionId)) throw new Error(`unexpected session id ${JSON.stringify(sessionId)}`);
  const secret = newHookSecret();
  const forwarder = hookForwarder({ ...forwarderScriptOptions(dir, options.daemonSocket), urlPath: `/hooks/claude-code/${sessionId}`, secret });
  const settingsPath = path.join(dir, 'settings.json');
  const hooks = Object.fromEntries(
    HOOK_EVENTS.map(({ name, matcher }) => {
      // A permission prompt waits for a person: Claude shows its own prompt alongside, and an answer there ends the hook.
      const handler = forwarder.handler(name, name === 'PermissionRequest' ? PERSON_WAIT_S : options.timeoutS);
      return [name, [{ ...(matcher ? { matcher: '*' } : {}), hooks: [{ type: 'command', ...handler }] }]];
    }),
  );
  await writeFiles([...forwarder.files, { path: settingsPath, content: `${JSON.stringify({ hooks }, null, 2)}\n`, mode: 0o600 }]);
  return { dir, settingsPath, forwarderPath: forwarder.forwarderPath, curlConfigPath: forwarder.curlConfigPath, secret, forwarderDigest: forwarder.digest };
}

/** Claude Code's transcript file: `<config dir>/projects/<cwd, non-alphanumerics as '-'>/<id>.jsonl`. */
export function computedTranscriptPath(configDir: string, cwd: string, claudeSessionId: string): string {
  return path.join(configDir, 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'), `${claudeSessionId}.jsonl`);
}
