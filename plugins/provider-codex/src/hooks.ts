import { createHash } from 'node:crypto';
import path from 'node:path';
import { hookForwarder, newHookSecret, PERSON_WAIT_S, type ForwarderScriptOptions, type HookHandler } from '@codepiper/sessions-contract/agent-hooks';
import type { ProgramPlace } from '@codepiper/sessions-contract';

/** The Codex hook events CodePiper listens to, with the key Codex trusts each by, and whether it may wait for a person. */
export const HOOK_EVENTS: readonly { name: string; key: string; waits: boolean }[] = [
  { name: 'UserPromptSubmit', key: 'user_prompt_submit', waits: false },
  // Codex cannot be told to ask before a call: its PreToolUse is where a person is asked.
  { name: 'PreToolUse', key: 'pre_tool_use', waits: true },
  { name: 'PermissionRequest', key: 'permission_request', waits: true },
  { name: 'PostToolUse', key: 'post_tool_use', waits: false },
  { name: 'Stop', key: 'stop', waits: false },
];

/** Codex's source path for hooks given with `-c` (its session-flags config layer). */
const SESSION_FLAGS = '/<session-flags>/config.toml';

/**
 * Codex runs a hook only once it is trusted: the trust is the SHA-256 of the
 * hook's identity (its event key and handler, as JSON with sorted keys),
 * recorded under `hooks.state."<source>:<event key>:<group>:<handler>"`.
 */
export function codexTrustHash(eventKey: string, handler: HookHandler): string {
  const identity = { event_name: eventKey, hooks: [{ async: false, command: handler.command, timeout: handler.timeout, type: 'command' }] };
  return `sha256:${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
}

/** What the forwarder answers a PreToolUse when the daemon cannot: Codex lets a failed hook's call run, exit 2 refuses it. */
export const FALLBACK_REFUSAL = 'CodePiper could not reach its daemon: not run';

export interface CodexHooks {
  /** `-c` overrides declaring the hooks, and trusting them, for this Codex process only. */
  args: string[];
  secret: string;
  /** Names the forwarder script's content (see refreshForwarder). */
  forwarderDigest: string;
}

export function sessionDir(pluginDir: string, sessionId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(sessionId)) throw new Error(`invalid session id ${JSON.stringify(sessionId)}`);
  return path.join(pluginDir, sessionId);
}

/** The forwarder of a session of `plugin` where its program runs; a PreToolUse the daemon could not answer is refused. */
export const forwarderScriptOptions = (place: ProgramPlace, plugin: string, sessionId: string): ForwarderScriptOptions => ({
  dir: place.sessionDir(plugin, sessionId),
  socket: place.agentSocket,
  maxTimeoutS: PERSON_WAIT_S,
  fallbacks: { PreToolUse: { stderr: FALLBACK_REFUSAL, exit: 2 } },
});

/**
 * Writes the session's hook forwarder and returns the `-c` overrides that
 * give Codex our hooks, trusted, beside the user's own (their config layers
 * and `notify` stay as they are).
 */
export async function writeCodexHooks(options: { place: ProgramPlace; plugin: string; sessionId: string; quickTimeoutS: number }): Promise<CodexHooks> {
  const secret = newHookSecret();
  const forwarder = hookForwarder({ ...forwarderScriptOptions(options.place, options.plugin, options.sessionId), urlPath: `/hooks/codex/${options.sessionId}`, secret });
  await options.place.writeFiles(forwarder.files);
  const args: string[] = [];
  const trusted: string[] = [];
  for (const event of HOOK_EVENTS) {
    const handler = forwarder.handler(event.name, event.waits ? PERSON_WAIT_S : options.quickTimeoutS);
    // TOML inline tables; JSON string escapes are valid TOML basic-string escapes.
    args.push('-c', `hooks.${event.name}=[{hooks=[{type="command",command=${JSON.stringify(handler.command)},timeout=${handler.timeout}}]}]`);
    trusted.push(`${JSON.stringify(`${SESSION_FLAGS}:${event.key}:0:0`)}={trusted_hash=${JSON.stringify(codexTrustHash(event.key, handler))}}`);
  }
  args.push('-c', `hooks.state={${trusted.join(',')}}`);
  return { args, secret, forwarderDigest: forwarder.digest };
}
