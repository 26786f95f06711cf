/**
 * Helpers to run the real Codex CLI (pinned as a devDependency of the tests
 * package) offline against a fake Responses API server, in a CODEX_HOME of
 * its own so the user's ~/.codex is never read or written.
 *
 * Seen with 0.169.0: with the config written here `codex --no-alt-screen`
 * starts straight into the composer ("Ask Codex to do anything"); no login,
 * update, or trust dialog. It calls only `POST <base_url>/responses` (twice
 * for a first prompt: the turn, and a thread-title request with a JSON
 * schema on a separate thread id).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The pinned `codex` (tests/dist/agents/codex.js → tests/node_modules/.bin/codex). */
export const codexBin = path.resolve(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'codex');

/**
 * The environment variable that carries the (fake) API key; named by `env_key`.
 * Given to the daemon as a user's key would be: sessions inherit it, unlike the
 * daemon's own `CODEPIPER_*` variables, and a resumed session (which gets no
 * environment from its request) still has it.
 */
export const codexKeyVar = 'FAKE_OPENAI_API_KEY';

export type ApprovalPolicy = 'never' | 'on-request' | 'untrusted' | 'on-failure';
export type SandboxMode = 'read-only' | 'workspace-write' | 'danger-full-access';

export interface CodexHomeOptions {
  /** Provider base_url, e.g. a FakeResponses' `url` (`http://127.0.0.1:PORT/v1`). */
  baseUrl: string;
  /** `notify = [...]`: run with one more argument, the JSON event, after each turn. */
  notifyCommand?: string[];
  /** Where to create CODEX_HOME (default: a new `/tmp/cpt-codex-*`). */
  codexHome?: string;
  /**
   * Default `fake-model` (unknown to Codex: it shows a "Model metadata ... not found" warning, harmless);
   * null: no `model` line, so Codex picks its own default as for a new user.
   */
  model?: string | null;
  /** Default `never`: commands run without asking. */
  approvalPolicy?: ApprovalPolicy;
  /** Default `danger-full-access` (no bubblewrap needed). */
  sandboxMode?: SandboxMode;
  /** Directories marked trusted (`[projects."<dir>"] trust_level = "trusted"`): skips the "Trust this folder?" dialog in git repos. */
  trustedDirs?: string[];
  /** Extra TOML appended verbatim. */
  extraToml?: string;
}

export interface CodexHome {
  /** CODEX_HOME: `config.toml`, later `sessions/YYYY/MM/DD/rollout-*.jsonl`. */
  codexHome: string;
  /** Variables to add to the session's environment (CODEX_HOME and the key). */
  env: Record<string, string>;
  /** Absolute path of the pinned `codex`. */
  bin: string;
  model: string | null;
}

/** A TOML basic string (JSON escapes are valid TOML escapes). */
function tomlString(value: string): string {
  return JSON.stringify(value);
}

function modelOf(options: CodexHomeOptions): string | null {
  return options.model === undefined ? 'fake-model' : options.model;
}

/** The config.toml text prepareCodexHome writes. */
export function codexConfigToml(options: CodexHomeOptions): string {
  const model = modelOf(options);
  const lines = [
    ...(model === null ? [] : [`model = ${tomlString(model)}`]),
    'model_provider = "fake"',
    `approval_policy = ${tomlString(options.approvalPolicy ?? 'never')}`,
    `sandbox_mode = ${tomlString(options.sandboxMode ?? 'danger-full-access')}`,
    // No network probe for a newer version.
    'check_for_update_on_startup = false',
  ];
  if (options.notifyCommand) lines.push(`notify = [${options.notifyCommand.map(tomlString).join(', ')}]`);
  lines.push(
    '',
    '[model_providers.fake]',
    'name = "Fake"',
    `base_url = ${tomlString(options.baseUrl)}`,
    'wire_api = "responses"',
    `env_key = ${tomlString(codexKeyVar)}`,
    // Fail fast instead of retrying with backoff when the fake answers an error.
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
    // 0.169.0 otherwise starts a shared background app-server daemon
    // (`codex app-server --managed-daemon`, copied under CODEX_HOME/packages)
    // that outlives the TUI. Same as passing `--no-daemon`.
    '[features]',
    'daemon_auto_start = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[feedback]',
    'enabled = false',
    '',
    '[notice]',
    'hide_full_access_warning = true',
    '',
    '[tui]',
    // Startup tips (e.g. a model-availability nudge) and the screen reader probe.
    'show_tooltips = false',
    'screen_reader_detection_done = true',
  );
  for (const dir of options.trustedDirs ?? []) lines.push('', `[projects.${tomlString(path.resolve(dir))}]`, 'trust_level = "trusted"');
  if (options.extraToml) lines.push('', options.extraToml);
  return lines.join('\n') + '\n';
}

/**
 * TOML for a user's own command hook in `<codexHome>/config.toml`, trusted as
 * Codex's `/hooks` review would record it (0.169: the SHA-256 of the hook's
 * identity as JSON with sorted keys, under `hooks.state."<file>:<event>:0:0"`).
 */
export function userHookToml(codexHome: string, event: string, eventKey: string, command: string): string {
  const identity = { event_name: eventKey, hooks: [{ async: false, command, timeout: 10, type: 'command' }] };
  const hash = `sha256:${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
  return [
    `[[hooks.${event}]]`,
    `[[hooks.${event}.hooks]]`,
    'type = "command"',
    `command = ${tomlString(command)}`,
    'timeout = 10',
    '',
    `[hooks.state.${tomlString(`${path.join(codexHome, 'config.toml')}:${eventKey}:0:0`)}]`,
    `trusted_hash = ${tomlString(hash)}`,
  ].join('\n');
}

/** Creates a CODEX_HOME whose config selects the fake provider and skips first-run prompts. */
export async function prepareCodexHome(options: CodexHomeOptions): Promise<CodexHome> {
  const codexHome = options.codexHome ?? (await mkdtemp('/tmp/cpt-codex-'));
  await mkdir(codexHome, { recursive: true });
  await writeFile(path.join(codexHome, 'config.toml'), codexConfigToml(options));
  return {
    codexHome,
    env: { CODEX_HOME: codexHome, [codexKeyVar]: 'sk-fake-codepiper-tests' },
    bin: codexBin,
    model: modelOf(options),
  };
}

/**
 * Session ids of the TUIs started in this CODEX_HOME. 0.169.0 creates an
 * empty `tui-thread-reference-capabilities/<session id>` at startup, before
 * any prompt (the rollout file only appears with the first turn).
 */
export async function startedSessionIds(codexHome: string): Promise<string[]> {
  try {
    return await readdir(path.join(codexHome, 'tui-thread-reference-capabilities'));
  } catch {
    return [];
  }
}

/** All rollout files: `sessions/YYYY/MM/DD/rollout-<local start time>-<session id>.jsonl`. */
export async function rolloutFiles(codexHome: string): Promise<string[]> {
  const root = path.join(codexHome, 'sessions');
  let entries: string[];
  try {
    entries = await readdir(root, { recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => /(^|\/)rollout-[^/]*\.jsonl$/.test(e))
    .map((e) => path.join(root, e))
    .sort();
}

/** The rollout file of one session, if it exists yet. */
export async function rolloutFile(codexHome: string, sessionId: string): Promise<string | undefined> {
  return (await rolloutFiles(codexHome)).find((f) => f.endsWith(`-${sessionId}.jsonl`));
}

export interface RolloutLine {
  timestamp?: string;
  /** `session_meta`, `response_item`, `event_msg`, `turn_context`, `world_state`, `token_usage_record`, `compacted`, ... */
  type: string;
  payload: { type?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Parses a rollout; unparseable lines (e.g. one being written) are skipped. */
export async function readRollout(file: string): Promise<RolloutLine[]> {
  const out: RolloutLine[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line) as RolloutLine;
      if (parsed && typeof parsed.type === 'string') out.push(parsed);
    } catch {
      // Skip.
    }
  }
  return out;
}

export interface CodexTokenUsage {
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_input_tokens?: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

/** `info.total_token_usage` of the last `event_msg` `token_count` whose info is set (cumulative for the session). */
export function lastTotalTokenUsage(lines: RolloutLine[]): CodexTokenUsage | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line?.type !== 'event_msg' || line.payload.type !== 'token_count') continue;
    const info = line.payload.info as { total_token_usage?: CodexTokenUsage } | null | undefined;
    if (info?.total_token_usage) return info.total_token_usage;
  }
  return undefined;
}
