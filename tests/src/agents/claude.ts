/**
 * Helpers to run the real Claude Code CLI (pinned as a devDependency of the
 * tests package) offline against a fake model server, in a config dir of its
 * own so the user's ~/.claude is never read or written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before } from 'node:test';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { listProcesses, processEnvironment, waitFor, type ProcessEntry } from '@codepiper/sdk/testing';
import { TestDaemon, tempHome } from '../harness.js';

/** The pinned `claude` (tests/dist/agents/claude.js → tests/node_modules/.bin/claude). */
export const claudeBin = path.resolve(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'claude');

export interface ClaudeHomeOptions {
  /** The directory the session will run in (trusted in advance). Absolute. */
  cwd: string;
  /** Any string; it is given to Claude Code through `apiKeyHelper`, not the environment. */
  apiKey: string;
  /** ANTHROPIC_BASE_URL, e.g. a FakeAnthropic's url. */
  baseUrl: string;
  /** Where to create the config dir (default: a new `/tmp/cpt-claude-*`). */
  configDir?: string;
  /** Extra keys merged into settings.json (e.g. hooks). */
  settings?: Record<string, unknown>;
  /** false: leave `cwd` untrusted, so Claude first shows its trust question (default: trusted). */
  trusted?: boolean;
}

export interface ClaudeHome {
  /** CLAUDE_CONFIG_DIR: holds `.claude.json`, `settings.json`, and later `projects/` transcripts. */
  configDir: string;
  /** Variables to add to the session's environment. */
  env: Record<string, string>;
  /** Absolute path of the pinned `claude`. */
  bin: string;
}

/**
 * Environment that keeps Claude Code offline (only the model server is
 * contacted) and quiet (no update checks, surveys, IDE auto-install,
 * telemetry, error reports).
 */
export function quietClaudeEnv(configDir: string, baseUrl: string): Record<string, string> {
  return {
    CLAUDE_CONFIG_DIR: configDir,
    ANTHROPIC_BASE_URL: baseUrl,
    // Umbrella: telemetry, error reporting, auto-update, release notes, model capability fetches...
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_INSTALLATION_CHECKS: '1',
    CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
    CLAUDE_CODE_IDE_SKIP_AUTO_INSTALL: '1',
    // Else per-session scratch dirs pile up in /tmp/claude-<uid>/.
    CLAUDE_CODE_TMPDIR: path.join(configDir, 'tmp'),
  };
}

/** Claude Code's transcript directory name for a cwd: every non-alphanumeric char becomes '-'. */
export function projectDirName(cwd: string): string {
  return cwd.replace(/[^a-zA-Z0-9]/g, '-');
}

/** `<configDir>/projects/<cwd mangled>/<sessionId>.jsonl`. */
export function transcriptPath(configDir: string, cwd: string, sessionId: string): string {
  return path.join(configDir, 'projects', projectDirName(cwd), `${sessionId}.jsonl`);
}

/**
 * Creates a config dir in which `claude` starts straight into a session:
 * onboarding done, the API key approved, `cwd` trusted, the key supplied by
 * `apiKeyHelper` (so none is needed in the environment).
 */
export async function prepareClaudeHome(options: ClaudeHomeOptions): Promise<ClaudeHome> {
  const configDir = options.configDir ?? (await mkdtemp('/tmp/cpt-claude-'));
  await mkdir(path.join(configDir, 'tmp'), { recursive: true });
  const cwd = path.resolve(options.cwd);
  const state = {
    hasCompletedOnboarding: true,
    // Not needed by 2.1.328 (it starts straight into the prompt without them),
    // but they keep release notes of a newer pinned version from showing.
    lastOnboardingVersion: await claudeVersion(),
    lastReleaseNotesSeen: await claudeVersion(),
    customApiKeyResponses: { approved: [options.apiKey.slice(-20)], rejected: [] },
    projects: options.trusted === false ? {} : { [cwd]: { hasTrustDialogAccepted: true, allowedTools: [] } },
  };
  await writeFile(path.join(configDir, '.claude.json'), JSON.stringify(state, null, 2));
  const settings = { apiKeyHelper: `echo ${shellQuote(options.apiKey)}`, ...options.settings };
  await writeFile(path.join(configDir, 'settings.json'), JSON.stringify(settings, null, 2));
  return { configDir, env: quietClaudeEnv(configDir, options.baseUrl), bin: claudeBin };
}

let cachedVersion: string | undefined;

/** The pinned package's version, read from its package.json (no process started). */
export async function claudeVersion(): Promise<string> {
  if (cachedVersion) return cachedVersion;
  const manifest = path.resolve(import.meta.dirname, '..', '..', 'node_modules', '@anthropic-ai', 'claude-code', 'package.json');
  const parsed = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  cachedVersion = parsed.version;
  return cachedVersion;
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_.:/=+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A stand-in `claude` in `dir`, for tests that need the provider's launch and
 * hooks but no model: a shell script running `body` (by default it just waits).
 */
export function writeStandInClaude(dir: string, body = 'exec sleep 3600'): string {
  const file = path.join(dir, 'claude');
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/**
 * For a suite: a daemon with `config` as its config.yaml, running one Claude
 * Code session whose `claude` is a stand-in, and `hook` to fire the session's
 * hooks through its real forwarder (called as Claude calls it); resolves with
 * the forwarder's answer.
 */
export function standInClaudeSession(config: string): { readonly daemon: TestDaemon; readonly session: SessionRecord; hook(payload: Record<string, unknown>): unknown } {
  let daemon: TestDaemon | undefined;
  let session: SessionRecord | undefined;
  let scratch: string | undefined;
  before(async () => {
    scratch = mkdtempSync('/tmp/cpt-standin-');
    daemon = new TestDaemon(tempHome(), { CODEPIPER_CLAUDE_BIN: writeStandInClaude(scratch) });
    writeFileSync(path.join(daemon.home, 'config.yaml'), config);
    await daemon.start();
    session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'claude-code', cwd: scratch, env: { CLAUDE_CONFIG_DIR: path.join(scratch, 'config') } } });
  });
  after(async () => {
    if (session) await daemon?.client.call(sessionEndpoints.kill, { params: { id: session.id } }).catch(() => undefined);
    await daemon?.dispose();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  return {
    get daemon() {
      return daemon!;
    },
    get session() {
      return session!;
    },
    hook(payload) {
      const forwarder = path.join(path.dirname(String(session!.metadata.settingsPath)), 'hook.sh');
      const event = String(payload.hook_event_name);
      const result = spawnSync(forwarder, [event], { input: JSON.stringify({ session_id: session!.id, ...payload }), encoding: 'utf8', timeout: 20_000 });
      assert.equal(result.status, 0, result.stderr);
      return JSON.parse(result.stdout);
    },
  };
}

/** The processes started with CLAUDE_CONFIG_DIR set to `configDir`. */
const processesUsing = (configDir: string): ProcessEntry[] =>
  listProcesses().filter((process) => processEnvironment(process.pid).includes(`CLAUDE_CONFIG_DIR=${configDir}`));

/**
 * Removes a config dir made by prepareClaudeHome, once the Claude that used
 * it has ended: one killed with its session still writes its state there as
 * it exits, and would make the directory again after it was removed.
 */
export async function removeClaudeHome(home: ClaudeHome | undefined): Promise<void> {
  if (!home) return;
  await waitFor('the Claude using the config dir to end', () => processesUsing(home.configDir).length === 0 || undefined, 15_000);
  rmSync(home.configDir, { recursive: true, force: true });
}
