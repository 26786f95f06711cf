import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PrivateFile, ProgramPlace, SessionDirectory, SessionRecord } from './sessions.js';

/**
 * How long a hook that waits for a person may wait: as long as the agent
 * waits, in practice (an answer in the agent's own terminal ends the hook). A
 * week, well below the 24.8 days a Node timer can hold.
 */
export const PERSON_WAIT_S = 7 * 24 * 3600;

/** What a forwarder prints and how it exits when the daemon gave no usable answer. */
export interface HookFallback {
  stdout?: string;
  stderr?: string;
  exit: number;
}

export interface HookForwarderOptions {
  /** The session's private directory, where its program runs: holds `hook.sh` and `hook.curl`. */
  dir: string;
  /** The daemon's agents' socket, as the program reaches it. */
  socket: string;
  /** The hook endpoint's URL path, `/hooks/<provider>/<session>`. */
  urlPath: string;
  /** The session's hook secret; written only to the 0600 curl config. */
  secret: string;
  /** The longest wait the script accepts as its second argument, in seconds. */
  maxTimeoutS: number;
  /** Per event, what to answer when the daemon cannot; every other event exits 1 silently. */
  fallbacks: Readonly<Record<string, HookFallback>>;
}

/** What the forwarder script is made of: all but the secret and the URL, which only its curl config holds. */
export type ForwarderScriptOptions = Omit<HookForwarderOptions, 'secret' | 'urlPath'>;

/** A hook handler for an agent's settings: the command it runs, and the timeout the agent gives it. */
export interface HookHandler {
  command: string;
  timeout: number;
}

/** Beyond the forwarder's own wait, so that its fallback answers before the agent gives up on it. */
const AGENT_TIMEOUT_MARGIN_S = 5;

export interface HookForwarder {
  forwarderPath: string;
  curlConfigPath: string;
  /** The forwarder and its curl config, to be written where the program runs (see `ProgramPlace.writeFiles`). */
  files: readonly PrivateFile[];
  /** Names the script's content: kept in the session's metadata (FORWARDER_DIGEST), so that an adopted session's older script is seen. */
  digest: string;
  /** The handler for `event` that waits up to `waitS` for the daemon (PERSON_WAIT_S for a person's answer). */
  handler(event: string, waitS: number): HookHandler;
}

const hasControl = (value: string): boolean => [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Single-quotes a value for sh; refuses what single quotes cannot hold plainly. */
function shQuote(value: string): string {
  if (value.includes("'") || hasControl(value)) throw new Error(`unsafe value for a hook forwarder: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/** A value inside a curl config file's double quotes. */
function curlQuote(value: string): string {
  if (/["\\]/.test(value) || hasControl(value)) throw new Error(`unsafe value for a hook forwarder: ${JSON.stringify(value)}`);
  return `"${value}"`;
}

const EVENT_NAME = /^[A-Za-z]+$/;

const forwarderPaths = (dir: string) => ({ forwarderPath: path.join(dir, 'hook.sh'), curlConfigPath: path.join(dir, 'hook.curl') });

/**
 * An agent's hook forwarder, to be written where its program runs: a POSIX
 * sh script, called as `hook.sh <event> <timeout s>` with the hook's JSON on
 * stdin, that posts it to the daemon over its agents' socket with curl and prints the answer. The
 * secret stays in a 0600 curl config file (never argv). The answer is printed
 * only once curl got all of it and it looks like one JSON object; on any
 * failure (no daemon, an HTTP error, a timeout, a cut-short, empty or
 * non-JSON answer) the event's fallback is given instead. When the agent ends
 * the hook (SIGTERM: its own prompt was answered, or the turn interrupted),
 * the request is cut, so that the daemon sees the agent stop waiting. Events
 * the daemon did not get are kept (`offline.jsonl`), for the daemon
 * to audit and take in when it is back (offlineEvents, takeOfflineToolCalls);
 * while any are kept, each request says so (OFFLINE_KEPT_HEADER).
 */
export function hookForwarder(options: HookForwarderOptions): HookForwarder {
  const { forwarderPath, curlConfigPath } = forwarderPaths(options.dir);
  const curlConfig = [
    `url = ${curlQuote(`http://codepiper${options.urlPath}`)}`,
    `header = ${curlQuote(`Authorization: Bearer ${options.secret}`)}`,
    'header = "Content-Type: application/json"',
    '',
  ].join('\n');
  const script = forwarderScript(options);
  const files: PrivateFile[] = [{ path: curlConfigPath, content: curlConfig, mode: 0o600 }, script.file];
  const handler = (event: string, waitS: number): HookHandler => {
    if (!EVENT_NAME.test(event)) throw new Error(`unexpected hook event ${JSON.stringify(event)}`);
    const wait = Math.min(Math.max(1, Math.floor(waitS)), Math.floor(options.maxTimeoutS));
    // exec: the signal an agent sends to end a hook reaches the forwarder itself.
    return { command: `exec ${shQuote(forwarderPath)} ${event} ${wait}`, timeout: wait + AGENT_TIMEOUT_MARGIN_S };
  };
  return { forwarderPath, curlConfigPath, files, digest: script.digest, handler };
}

/** The metadata key under which a session keeps its forwarder script's digest. */
export const FORWARDER_DIGEST = 'forwarderDigest';

/**
 * An adopted session's forwarder, written by the CodePiper that started it:
 * when that was another version (the daemon upgraded while its sessions ran
 * on), its script is replaced by this version's, so that what was fixed since
 * applies to the sessions already running. Its curl config, the secret, and
 * the hooks the agent was started with stay as they are.
 */
export async function refreshForwarder(
  session: SessionRecord,
  options: ForwarderScriptOptions,
  to: { place: ProgramPlace; sessions: SessionDirectory },
): Promise<void> {
  const script = forwarderScript(options);
  if (session.metadata[FORWARDER_DIGEST] === script.digest) return;
  await to.place.writeFiles([script.file]);
  await to.sessions.updateMetadata(session.id, { [FORWARDER_DIGEST]: script.digest });
}

/**
 * Writes private files on this machine, making their directories 0700
 * (`ProgramPlace.writeFiles` here). Each is written beside and renamed into
 * place: a hook running the script it replaces reads the old one to its end.
 */
export async function writePrivateFiles(files: readonly PrivateFile[]): Promise<void> {
  for (const file of files) {
    const dir = path.dirname(file.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const aside = `${file.path}.${process.pid}.new`;
    await writeFile(aside, file.content, { mode: file.mode });
    await chmod(aside, file.mode);
    await rename(aside, file.path);
  }
}

function fallbackCase([event, fallback]: [string, HookFallback]): string {
  if (!EVENT_NAME.test(event)) throw new Error(`unexpected hook event ${JSON.stringify(event)}`);
  const lines = [
    ...(fallback.stdout === undefined ? [] : [`printf '%s' ${shQuote(fallback.stdout)}`]),
    ...(fallback.stderr === undefined ? [] : [`printf '%s' ${shQuote(fallback.stderr)} >&3`]),
    `exit ${fallback.exit}`,
  ];
  return `    ${event}) ${lines.join('; ')} ;;`;
}

function forwarderScript(options: ForwarderScriptOptions): { file: PrivateFile; digest: string } {
  const { forwarderPath, curlConfigPath } = forwarderPaths(options.dir);
  const content = forwarderScriptText(options, curlConfigPath);
  const digest = createHash('sha256').update(content).digest('hex').slice(0, 16);
  return { file: { path: forwarderPath, content, mode: 0o700 }, digest };
}

function forwarderScriptText(options: ForwarderScriptOptions, curlConfigPath: string): string {
  const max = Math.floor(options.maxTimeoutS);
  const offline = shQuote(offlineFile(options.dir));
  return [
    '#!/bin/sh',
    '# CodePiper: forwards an agent hook event to the daemon. Generated; do not edit.',
    "# Usage: hook.sh <event> <timeout s>, the hook's JSON on stdin.",
    'exec 3>&2 2>/dev/null 4<&0',
    'umask 077',
    'event=$1',
    `case $2 in ''|*[!0-9]*) timeout=${max} ;; *) timeout=$2 ;; esac`,
    `[ "$timeout" -ge 1 ] && [ "$timeout" -le ${max} ] || timeout=${max}`,
    // Beside the script (a private directory), named by this process: no mktemp to run, nothing in a shared /tmp.
    `in=${shQuote(path.join(options.dir, 'in'))}.$$ out=${shQuote(path.join(options.dir, 'out'))}.$$ curl=`,
    `trap 'rm -f "$in" "$out"' EXIT`,
    'fail() {',
    // What the agent did then is decided without the daemon: kept, for the daemon to audit (and take in) when it is back.
    `  [ -s "$in" ] && { cat "$in"; echo; } >> ${offline}`,
    '  case $event in',
    ...Object.entries(options.fallbacks).map(fallbackCase),
    '  esac',
    '  exit 1',
    '}',
    'cat <&4 > "$in" || fail',
    `trap '[ -n "$curl" ] && kill "$curl"; exit 1' TERM INT HUP`,
    // Events kept earlier are waiting: the daemon takes them in before this one.
    `kept=no; [ -s ${offline} ] && kept=yes`,
    // In the background, so that a signal reaches the trap at once.
    `curl -s --fail --max-time "$timeout" --unix-socket ${shQuote(options.socket)} -K ${shQuote(curlConfigPath)} -H "${OFFLINE_KEPT_HEADER}: $kept" --data-binary @"$in" -o "$out" &`,
    'curl=$!',
    'wait "$curl"',
    'status=$?',
    'curl=',
    // One line: the daemon's JSON has none inside.
    `IFS= read -r answer < "$out"`,
    '[ "$status" -eq 0 ] || fail',
    `case $answer in '{'*'}') ;; *) fail ;; esac`,
    `printf '%s' "$answer"`,
    '',
  ].join('\n');
}

/** The header by which a forwarder says (`yes`) that its offline file holds events: the daemon takes them in then, not only at its start. */
export const OFFLINE_KEPT_HEADER = 'x-codepiper-kept';

/** The file a forwarder keeps the events the daemon did not get in, in its session's directory. */
export const offlineFile = (dir: string): string => path.join(dir, 'offline.jsonl');

/** A tool call an agent made while its forwarder could not reach the daemon. */
export interface OfflineToolCall {
  toolName: string;
  toolInput: unknown;
  /** Whether it ran (its PostToolUse was kept too). */
  ran: boolean;
}

/** Reads and removes a file on this machine (`ProgramPlace.take` here); '' when there is none. */
export async function takeFile(file: string): Promise<string> {
  const taken = `${file}.${process.pid}.${Date.now()}.taken`;
  try {
    await rename(file, taken);
  } catch {
    return '';
  }
  const text = await readFile(taken, 'utf8');
  await rm(taken, { force: true });
  return text;
}

/** The hook events in a forwarder's offline file (its text), oldest first; lines that are no JSON object are skipped. */
export function offlineEvents(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((line) => {
    try {
      const value = JSON.parse(line) as unknown;
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** The tool calls among offline events, each with whether it ran. */
export function offlineToolCalls(events: readonly Record<string, unknown>[]): OfflineToolCall[] {
  const ran = new Set(events.filter((p) => p.hook_event_name === 'PostToolUse').map((p) => p.tool_use_id));
  return events
    .filter((p) => p.hook_event_name === 'PreToolUse' && typeof p.tool_name === 'string')
    .map((p) => ({ toolName: p.tool_name as string, toolInput: p.tool_input, ran: p.tool_use_id !== undefined && ran.has(p.tool_use_id) }));
}

/**
 * The tool calls a session's forwarder kept while the daemon was away, oldest
 * first; taken, so each is reported once.
 */
export async function takeOfflineToolCalls(dir: string): Promise<OfflineToolCall[]> {
  return offlineToolCalls(offlineEvents(await takeFile(offlineFile(dir))));
}
