import * as Type from '@sinclair/typebox';
import type { Static, TObject } from '@sinclair/typebox';
import { defineEndpoint, defineSocketEndpoint, defineBailHook, defineSeriesHook, ENV_NAME_PATTERN, IsoTime, Name, Nullable, Ok, SchemaFieldSchema, createServiceRef } from '@codepiper/sdk';
import { KEY_NAME_PATTERN, type KeyName } from './keys.js';

export const SESSION_STATUSES = ['starting', 'running', 'working', 'idle', 'waiting', 'unreachable', 'exited', 'crashed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export const SessionStatusSchema = Type.Union(SESSION_STATUSES.map((s) => Type.Literal(s)));

/** A session's program has ended: `exited` (it ended, code recorded) or `crashed` (lost without a status). */
export const isFinished = (status: SessionStatus): boolean => status === 'exited' || status === 'crashed';

export const SessionSchema = Type.Object({
  id: Type.String({ description: 'UUID' }),
  name: Type.String(),
  provider: Type.String(),
  cwd: Type.String(),
  command: Type.Array(Type.String(), { description: 'The program and its arguments, as launched' }),
  status: SessionStatusSchema,
  statusDetail: Nullable(Type.String({ description: 'What a waiting session waits for, or why it ended' })),
  exitCode: Nullable(Type.Integer()),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  endedAt: Nullable(IsoTime),
  tmuxSession: Type.String({ description: 'Name of the tmux session on the daemon’s private server' }),
  metadata: Type.Record(Type.String(), Type.Unknown(), { description: 'Provider-specific facts' }),
});
export type SessionRecord = Static<typeof SessionSchema>;

/** The host a session runs on (`start --host`), as its launch recorded it in the metadata; undefined for the daemon's machine. */
export const sessionHost = (session: Pick<SessionRecord, 'metadata'>): string | undefined => (typeof session.metadata.host === 'string' ? session.metadata.host : undefined);

/** Where a session runs, for people: its directory, as `host:dir` when it is on another machine. */
export function sessionPlace(session: Pick<SessionRecord, 'cwd' | 'metadata'>): string {
  const host = sessionHost(session);
  return host === undefined ? session.cwd : `${host}:${session.cwd}`;
}

const SessionName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f\\x7f]+$' });
const EnvName = Type.String({ pattern: ENV_NAME_PATTERN });
/** A git branch name, kept to what needs no quoting anywhere: letters, digits, `._/-`, no `..`, not starting with `-`. */
export const BranchName = Type.String({ minLength: 1, maxLength: 200, pattern: '^(?!-)(?!.*\\.\\.)(?!.*//)(?!.*\\.lock$)(?!.*/$)[A-Za-z0-9._/-]+$' });

export const StartSessionSchema = Type.Object(
  {
    provider: Type.String({ minLength: 1, maxLength: 64 }),
    cwd: Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute path of an existing directory' }),
    name: Type.Optional(SessionName),
    args: Type.Optional(Type.Array(Type.String({ maxLength: 65536 }), { maxItems: 256, description: 'Program and arguments; providers give their meaning' })),
    env: Type.Optional(Type.Record(EnvName, Type.String({ maxLength: 65536 }))),
    secrets: Type.Optional(
      Type.Array(EnvName, { maxItems: 64, uniqueItems: true, description: 'Named secrets (`codepiper secret set`) put into the environment under their names; their values appear nowhere else' }),
    ),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Provider options, validated by the provider' })),
    prompt: Type.Optional(Type.String({ minLength: 1, maxLength: 1_000_000, description: 'A first prompt, typed once the agent can take input (checked like any input)' })),
    worktree: Type.Optional(
      Type.Union([Type.Boolean(), BranchName], {
        description: 'Run in a new git worktree of the repository at `cwd`, on a new branch: this name, or (true) one named after the session. Needs the worktrees plugin',
      }),
    ),
    policySets: Type.Optional(
      Type.Array(Name(), { maxItems: 32, uniqueItems: true, description: 'Policy sets the session is under from its first call (a control-plane request: refused from inside a session)' }),
    ),
    host: Type.Optional(
      Name({
        description: 'Run on this host (`codepiper host add`), in a tmux server of its own there; `cwd` is a directory on that host. Needs the hosts plugin',
      }),
    ),
    withoutPolicies: Type.Optional(
      Type.Boolean({ description: 'Run without policies: every call allowed, and recorded (`start --dangerous`; a control-plane request: refused from inside a session)' }),
    ),
  },
  { additionalProperties: false },
);
export type StartSessionRequest = Static<typeof StartSessionSchema>;

/** Whether a start says what governs the session: then it is a control-plane request, like attaching sets or a bypass afterwards. */
export const startGovernsPolicies = (request: Pick<StartSessionRequest, 'policySets' | 'withoutPolicies'>): boolean =>
  (request.policySets?.length ?? 0) > 0 || request.withoutPolicies === true;

export const ScreenSchema = Type.Object({
  text: Type.String({ description: 'The visible screen, one line per row' }),
  cols: Type.Integer(),
  rows: Type.Integer(),
  cursor: Type.Object({ x: Type.Integer(), y: Type.Integer() }),
});
export type Screen = Static<typeof ScreenSchema>;

export const TranscriptEntrySchema = Type.Object({
  kind: Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('tool_call'), Type.Literal('tool_result')]),
  ts: Nullable(IsoTime),
  text: Type.String({ description: 'The message text, or a tool result’s output' }),
  tool: Type.Optional(Type.Object({ name: Type.String(), input: Type.Unknown(), id: Type.Optional(Type.String()) })),
  model: Type.Optional(Type.String()),
});
export type TranscriptEntry = Static<typeof TranscriptEntrySchema>;

/* ----- The provider contract ----- */

/** What the sessions plugin gives a provider to drive one session's terminal. */
export interface SessionTerminal {
  readonly sessionId: string;
  /** Types the text literally: never interpreted by a shell or by tmux. */
  typeText(text: string): Promise<void>;
  pressKeys(keys: readonly KeyName[]): Promise<void>;
  /** Sends a signal to the session's program. */
  signal(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGKILL'): Promise<void>;
  screen(): Promise<Screen>;
}

export interface LaunchSpec {
  /** Program and arguments; run directly, never through a shell string. */
  argv: readonly string[];
  /** Added to the daemon's environment; `null` removes a variable. */
  env?: Readonly<Record<string, string | null>>;
  /** Provider facts stored with the session (e.g. the agent's own session id). */
  metadata?: Record<string, unknown>;
}

export interface SessionLauncher {
  /** Where the program will run: where its files go, and how it reaches the daemon from there. */
  readonly place: ProgramPlace;
  /** Runs the program in a new terminal; resolves once it is running. */
  launch(spec: LaunchSpec): Promise<SessionTerminal>;
}

/** A file a provider leaves for its session's program, only its user may read (its directory made 0700). */
export interface PrivateFile {
  path: string;
  content: string;
  mode: 0o600 | 0o700;
}

/**
 * Where a session's program runs, as its provider prepares for it: this
 * machine, or a host reached over SSH (given by the hosts plugin, see
 * `hostPlace`). Paths are as the program sees them there.
 */
export interface ProgramPlace {
  /** The host's name; null on this machine. */
  readonly host: string | null;
  /** HOME of the program's user there. */
  readonly home: string;
  /** The daemon's agents' socket as the program reaches it there (forwarded over SSH to a host). */
  readonly agentSocket: string;
  /** A private directory there for what `plugin` keeps for one session (hook scripts, settings); removed with the session (`rm`). */
  sessionDir(plugin: string, sessionId: string): string;
  /** Writes private files there. */
  writeFiles(files: readonly PrivateFile[]): Promise<void>;
  /** Reads and removes a file there (what a program left for the daemon); '' when there is none. */
  take(file: string): Promise<string>;
  /**
   * Where the daemon reads a file the session's program writes there (a
   * transcript): the file itself on this machine; on a host, a copy here
   * kept up to date as it grows, from now until the session ends.
   */
  readable(sessionId: string, file: string): Promise<string>;
}

export interface StartSessionInput {
  sessionId: string;
  name: string;
  cwd: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Already validated against the provider's `options` schema. */
  options: Record<string, unknown>;
  /** Set when a finished session is started again (`codepiper resume`): its record as it ended. */
  resume?: SessionRecord;
}

export interface SessionProvider {
  readonly id: string;
  readonly description: string;
  /** Schema of `options` accepted at start (model, permission mode...). */
  readonly options?: TObject;
  /** Prepares and launches the session's program through `launcher`. */
  startSession(input: StartSessionInput, launcher: SessionLauncher): Promise<void>;
  sendText(terminal: SessionTerminal, text: string, submit: boolean): Promise<void>;
  sendKeys(terminal: SessionTerminal, keys: readonly KeyName[]): Promise<void>;
  /** Asks the program to end gracefully; the sessions plugin force-kills it if it does not. */
  stopSession(terminal: SessionTerminal, session: SessionRecord): Promise<void>;
  /**
   * After a daemon restart, a session of this provider that kept running was
   * adopted: its terminal, to pick up what the old daemon was doing (a question
   * still on the screen), and where its program runs (a host is reached only
   * when asked), to bring up to date what the provider wrote there. Must
   * return soon; longer work goes on in the background.
   */
  adopted?(terminal: SessionTerminal, session: SessionRecord, place: () => Promise<ProgramPlace>): Promise<void>;
  /** Every event of this provider's sessions, after it is stored. */
  onEvent?(event: { type: string; payload: unknown }, session: SessionRecord): void | Promise<void>;
  /**
   * For agents with no hooks: the session is `idle` once its output has been
   * quiet this long, `working` again when output resumes. The sessions plugin
   * watches such a session's output for this, and only such sessions.
   */
  readonly idleAfterMs?: number;
  /** Whether a finished session can be started again with `resume` (`codepiper resume`). */
  readonly resumable?: boolean;
  /** The conversation so far, from the agent's own records (`codepiper transcript`). */
  transcript?(session: SessionRecord): Promise<TranscriptEntry[]>;
  /** What to type in a prompt so the agent reads the image file at `file` (an absolute path) with it: `send --image`. */
  imageReference?(file: string): string;
  /** Switches the model of a running session (`codepiper model`). */
  switchModel?(terminal: SessionTerminal, session: SessionRecord, model: string): Promise<void>;
  /**
   * The agent CLI it runs, as configured now, and what to do when it is
   * missing: `doctor` shows it as the daemon finds it, and a start that
   * cannot find it says so.
   */
  program?(): AgentProgram;
}

export interface AgentProgram {
  /** A name looked up on the daemon's PATH, or a path. */
  command: string;
  /** How to install it, or point at another: `npm i -g @anthropic-ai/claude-code, or set CODEPIPER_CLAUDE_BIN...`. */
  hint: string;
}

export interface ProviderRegistry {
  register(provider: SessionProvider): void;
  get(id: string): SessionProvider | undefined;
  list(): readonly SessionProvider[];
}

/** The sessions contract: its services (sessions.directory, sessions.control, sessions.providers), the provider contract and its hooks. Its version moves with what it promises: a major version for a change that breaks its users. */
export const SESSIONS_CONTRACT = '1.0.0';

export const providerRegistryRef = createServiceRef<ProviderRegistry>('sessions.providers', 'Where provider plugins register', SESSIONS_CONTRACT);

/** Which sessions a listing holds. */
export interface SessionFilter {
  status?: SessionStatus;
  /**
   * At most this many finished sessions, the newest (0: only those still
   * running); every unfinished one is always listed. All when absent.
   */
  finished?: number;
}

/** Reads and updates session records; owned by the sessions plugin. */
export interface SessionDirectory {
  /** Resolves a full id or a unique prefix; throws `not_found` or `ambiguous_id`. */
  resolve(idOrPrefix: string): Promise<SessionRecord>;
  /** Newest first. */
  list(filter?: SessionFilter): Promise<SessionRecord[]>;
  /** Records a status change (and its event) unless the session has already finished. */
  setStatus(id: string, status: SessionStatus, detail?: string | null): Promise<SessionRecord>;
  /** Merges provider facts into the session's metadata. */
  updateMetadata(id: string, patch: Record<string, unknown>): Promise<SessionRecord>;
  /** Records that the agent's turn ended: status `idle` (with the error as detail) and a `session.turn_ended` event. */
  endTurn(id: string, turn: TurnEnded): Promise<SessionRecord>;
}

export const sessionDirectoryRef = createServiceRef<SessionDirectory>('sessions.directory', 'Session records and status changes', SESSIONS_CONTRACT);

/** The event type of a finished turn; its payload is a `TurnEnded`. */
export const TURN_ENDED_EVENT = 'session.turn_ended';

/** How an agent's turn ended, as its provider learned it (Claude's Stop hook, Codex's notify, output going quiet). */
export interface TurnEnded {
  /** The agent's last message of the turn, when the agent reports it. */
  lastMessage: string | null;
  /** Why the turn stopped early (an API error), when it did. */
  error?: string;
}

/** Starts and drives sessions as the API does; for plugins that run sessions themselves (workflows). */
export interface StartOptions {
  id?: string;
  by?: string;
}

export interface SessionControl {
  /**
   * `id`: the new session's id, chosen (and recorded) by the caller before it
   * asks, so that after a crash it can tell whether the session was started;
   * `session_exists` (409) if a session has it. `by`: who asked, for the audit
   * trail of what governs it (`unix:local`, `tcp:ADDRESS`).
   */
  start(request: StartSessionRequest, options?: StartOptions): Promise<SessionRecord>;
  /** Types text (checked by `sessions.checkInput` with `via`), then Enter when `submit`. */
  input(ref: string, text: string, submit: boolean, via: string): Promise<void>;
  /** Asks the program to end; kills it if it does not within the stop timeout. */
  stop(ref: string): Promise<SessionRecord>;
  kill(ref: string): Promise<SessionRecord>;
  screen(ref: string): Promise<Screen>;
  transcript(ref: string): Promise<TranscriptEntry[]>;
}

export const sessionControlRef = createServiceRef<SessionControl>('sessions.control', 'Start, type into and stop sessions', SESSIONS_CONTRACT);

/** What the daemon is about to type into a session, for plugins to refuse. */
export interface InputCheck {
  session: SessionRecord;
  kind: 'text' | 'keys';
  /** The text, or the key names joined by spaces. */
  input: string;
  /** Which client asked: `api`, `terminal`, `workflow`... */
  via: string;
}

export interface InputVerdict {
  allow: false;
  reason: string;
}

export const checkInput = defineBailHook<InputCheck, InputVerdict>({
  name: 'sessions.checkInput',
  owner: 'sessions',
  payload: 'InputCheck → InputVerdict',
  description: 'Before the daemon types text or keys into a session. The first tap that returns a verdict refuses the input (API 403).',
});

/** A named secret asked for by a session being started (`start --secret NAME`). */
export interface SecretRequest {
  name: string;
  sessionId: string;
}

export const sessionSecret = defineBailHook<SecretRequest, { value: string }>({
  name: 'sessions.secret',
  owner: 'sessions',
  payload: 'SecretRequest → { value }',
  description:
    'For each secret a session being started names: the first tap that returns a value puts it in the program’s environment (and nowhere else); with none, the start is refused (unknown_secret).',
});

/** A session to run in a worktree of its own (`start --worktree`): the repository it was started in, and the branch asked for. */
export interface WorktreeRequest {
  sessionId: string;
  name: string;
  /** The directory the session was started in: a git repository, or a directory inside one. */
  cwd: string;
  /** The new branch's name; null: one made from the session's name. */
  branch: string | null;
}

export const sessionWorktree = defineBailHook<WorktreeRequest, { cwd: string }>({
  name: 'sessions.worktree',
  owner: 'sessions',
  payload: 'WorktreeRequest → { cwd }',
  description:
    'For a session started with `worktree`, before its program: the first tap that answers gives the directory it runs in (a new git worktree, made by the worktrees plugin); with none, the start is refused (worktrees_unavailable).',
});

/** What a session being started is to be governed by, as its start asked (`policySets`, `withoutPolicies`). */
export interface SessionGovernance {
  sessionId: string;
  policySets: readonly string[];
  withoutPolicies: boolean;
  /** Who asked, for the audit trail: `unix:local`, `tcp:ADDRESS`, `workflow:RUN`. */
  by: string;
}

export const governSession = defineBailHook<SessionGovernance, { governed: true }>({
  name: 'sessions.govern',
  owner: 'sessions',
  payload: 'SessionGovernance → { governed }',
  description:
    'For a session whose start names policy sets or asks to run without policies, before its program: the first tap that answers puts it under them (the policies plugin); with none, the start is refused (policies_unavailable).',
});

export const sessionAbandoned = defineSeriesHook<{ sessionId: string }>({
  name: 'sessions.abandoned',
  owner: 'sessions',
  payload: '{ sessionId }',
  description:
    'A session being started never ran (a refusal or failure before its program was launched): each tap undoes what it prepared for it (its worktree, its policy sets). A session that ran and failed is recorded as crashed instead.',
});

/** A program to run on another host, as a provider would launch it here. */
export interface RemoteLaunch {
  host: string;
  sessionId: string;
  /** The directory on that host. */
  cwd: string;
  spec: LaunchSpec;
  /** Named secrets for the program's environment there: to be carried so that no command line, file left behind or log has them. */
  secrets: Readonly<Record<string, string>>;
}

export const remoteLaunch = defineBailHook<RemoteLaunch, LaunchSpec>({
  name: 'sessions.remote',
  owner: 'sessions',
  payload: 'RemoteLaunch → LaunchSpec',
  description:
    'For a session started with `host`, before its program: the first tap that answers gives what runs here instead (the hosts plugin: ssh to the host, keeping the program in a tmux server there); with none, the start is refused (hosts_unavailable).',
});

export const hostPlace = defineBailHook<{ host: string }, ProgramPlace>({
  name: 'sessions.hostPlace',
  owner: 'sessions',
  payload: '{ host } → ProgramPlace',
  description:
    'For a session started with `host`, before its provider prepares it: the first tap that answers says where its files go and how its program reaches the daemon (the hosts plugin: over the host’s SSH connection, the agents’ socket forwarded there); with none, the start is refused (hosts_unavailable).',
});

export const keepSession = defineBailHook<SessionRecord, { reason: string }>({
  name: 'sessions.keep',
  owner: 'sessions',
  payload: 'SessionRecord → { reason }',
  description: 'Before a finished session is forgotten (rm, prune): the first tap that gives a reason keeps it (rm answers 409 session_kept; prune lists it as kept).',
});

/** Images an agent can be given (`send --image`, pasted into the dashboard's prompt), by media type. */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];
/** The largest image taken: a phone's screenshot, with room to spare. */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

const ascii = (bytes: Uint8Array, from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));

/** What an image's first bytes say it is, whatever its name says; undefined for anything else. */
export function imageTypeOf(bytes: Uint8Array): ImageType | undefined {
  if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (/^GIF8[79]a$/.test(ascii(bytes, 0, 6))) return 'image/gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/* ----- Endpoints ----- */

export const SessionIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'Session id or unique prefix' }) });

export const ProviderInfoSchema = Type.Object({
  id: Type.String(),
  description: Type.String(),
  options: Type.Array(SchemaFieldSchema, { description: 'What it takes at start, from its options schema; nothing for a provider without one' }),
  resumable: Type.Boolean({ description: 'A finished session can be started again, its conversation continued (`resume`)' }),
  switchesModel: Type.Boolean({ description: 'A running session’s model can be switched (`model`)' }),
  keepsTranscript: Type.Boolean({ description: 'Its sessions’ conversations can be read as messages (`transcript`)' }),
  readsImages: Type.Boolean({ description: 'Its agents can be given images with a prompt (`send --image`)' }),
  program: Type.Optional(
    Type.Object({
      command: Type.String({ description: 'The agent CLI as configured' }),
      path: Nullable(Type.String({ description: 'Where the daemon finds it; null when it does not' })),
      hint: Type.String({ description: 'How to install it or point at another' }),
    }),
  ),
});
export type ProviderInfo = Static<typeof ProviderInfoSchema>;

/** The most characters one send types (a prompt longer than this belongs in a file the agent reads). */
export const MAX_INPUT_CHARACTERS = 65_536;

export const sessionEndpoints = {
  providers: defineEndpoint({
    method: 'GET',
    url: '/providers',
    summary: 'Installed session providers',
    tags: ['sessions'],
    response: Type.Object({ providers: Type.Array(ProviderInfoSchema) }),
  }),
  start: defineEndpoint({
    method: 'POST',
    url: '/sessions',
    summary: 'Start a session',
    tags: ['sessions'],
    body: StartSessionSchema,
    response: SessionSchema,
    status: 201,
    control: startGovernsPolicies,
  }),
  list: defineEndpoint({
    method: 'GET',
    url: '/sessions',
    summary: 'Sessions, newest first: every unfinished one, and the finished ones (or the newest of them)',
    tags: ['sessions'],
    query: Type.Object({
      status: Type.Optional(SessionStatusSchema),
      finished: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'At most this many finished sessions, the newest (0: none); every unfinished one is always listed. All when absent' })),
    }),
    response: Type.Object({
      sessions: Type.Array(SessionSchema),
      finishedLeftOut: Type.Integer({ description: 'How many older finished sessions `finished` left out' }),
    }),
  }),
  show: defineEndpoint({
    method: 'GET',
    url: '/sessions/:id',
    summary: 'One session',
    tags: ['sessions'],
    params: SessionIdParams,
    response: SessionSchema,
  }),
  rename: defineEndpoint({
    method: 'PATCH',
    url: '/sessions/:id',
    summary: 'Rename a session',
    tags: ['sessions'],
    params: SessionIdParams,
    body: Type.Object({ name: SessionName }, { additionalProperties: false }),
    response: SessionSchema,
  }),
  input: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/input',
    summary: 'Type text into a session (literally), then Enter unless `enter` is false',
    tags: ['sessions'],
    params: SessionIdParams,
    body: Type.Object({ text: Type.String({ maxLength: MAX_INPUT_CHARACTERS }), enter: Type.Optional(Type.Boolean({ default: true })) }, { additionalProperties: false }),
    response: Ok,
  }),
  image: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/images',
    summary: 'Keep an image for a session’s agent to read; answers what to type in a prompt to attach it (providers that read images)',
    tags: ['sessions'],
    params: SessionIdParams,
    body: Type.Object(
      {
        mediaType: Type.Union(IMAGE_TYPES.map((type) => Type.Literal(type))),
        data: Type.String({ maxLength: Math.ceil(MAX_IMAGE_BYTES / 3) * 4, description: 'The image, base64' }),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ file: Type.String({ description: 'Where the daemon keeps it' }), reference: Type.String({ description: 'Text to put in a prompt (send) so the agent reads it' }) }),
    bodyLimit: Math.ceil(MAX_IMAGE_BYTES / 3) * 4 + 1024,
  }),
  keys: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/keys',
    summary: 'Press keys in a session',
    tags: ['sessions'],
    params: SessionIdParams,
    body: Type.Object({ keys: Type.Array(Type.String({ pattern: KEY_NAME_PATTERN }), { minItems: 1, maxItems: 100 }) }, { additionalProperties: false }),
    response: Ok,
  }),
  screen: defineEndpoint({
    method: 'GET',
    url: '/sessions/:id/screen',
    summary: 'The screen now (the last screen for a finished session)',
    tags: ['sessions'],
    params: SessionIdParams,
    response: ScreenSchema,
  }),
  scrollback: defineEndpoint({
    method: 'GET',
    url: '/sessions/:id/scrollback',
    summary: 'The last lines of output, scrollback included',
    tags: ['sessions'],
    params: SessionIdParams,
    query: Type.Object({ lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 100 })) }),
    response: Type.Object({ text: Type.String() }),
  }),
  resize: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/resize',
    summary: 'Resize the session’s terminal',
    tags: ['sessions'],
    params: SessionIdParams,
    body: Type.Object({ cols: Type.Integer({ minimum: 10, maximum: 1000 }), rows: Type.Integer({ minimum: 5, maximum: 500 }) }, { additionalProperties: false }),
    response: Ok,
  }),
  stop: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/stop',
    summary: 'Ask the program to end; force it after a grace period (a session that has ended is left as it is)',
    tags: ['sessions'],
    params: SessionIdParams,
    response: SessionSchema,
  }),
  kill: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/kill',
    summary: 'End the session at once (a session that has ended is left as it is)',
    tags: ['sessions'],
    params: SessionIdParams,
    response: SessionSchema,
  }),
  remove: defineEndpoint({
    method: 'DELETE',
    url: '/sessions/:id',
    summary: 'Forget a finished session: its record goes and its name is free again (409 while it runs); its events stay',
    tags: ['sessions'],
    params: SessionIdParams,
    response: SessionSchema,
  }),
  prune: defineEndpoint({
    method: 'POST',
    url: '/sessions/prune',
    summary: 'Forget every finished session but those a plugin keeps (a worktree with work not merged)',
    tags: ['sessions'],
    response: Type.Object({ removed: Type.Array(SessionSchema), kept: Type.Array(Type.Object({ session: SessionSchema, reason: Type.String() })) }),
  }),
  attachInfo: defineEndpoint({
    method: 'GET',
    url: '/sessions/:id/attach',
    summary: 'How to attach a tmux client to the session (local CLI only)',
    tags: ['sessions'],
    access: 'local',
    params: SessionIdParams,
    response: Type.Object({ tmux: Type.String(), socket: Type.String(), target: Type.String() }),
  }),
  resume: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/resume',
    summary: 'Start a finished session again, continuing its conversation (providers that support it)',
    tags: ['sessions'],
    params: SessionIdParams,
    response: SessionSchema,
  }),
  transcript: defineEndpoint({
    method: 'GET',
    url: '/sessions/:id/transcript',
    summary: 'The conversation so far, from the agent’s own records',
    tags: ['sessions'],
    params: SessionIdParams,
    response: Type.Object({ entries: Type.Array(TranscriptEntrySchema) }),
  }),
  model: defineEndpoint({
    method: 'POST',
    url: '/sessions/:id/model',
    summary: 'Switch the model of a running session',
    tags: ['sessions'],
    params: SessionIdParams,
    body: Type.Object({ model: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:/\\[\\]-]+$' }) }, { additionalProperties: false }),
    response: Ok,
  }),
  terminal: defineSocketEndpoint({
    url: '/sessions/:id/terminal',
    summary:
      'Live terminal: the current screen first (after the scrollback before it), then every byte as printed (binary messages); a text message {"type":"ready","cols","rows"} once output flows, {"type":"error","message"} when input is refused. Send binary or {"type":"input","data"} to type, {"type":"resize","cols","rows"} to resize. With `cols` and `rows`, the session takes that size before its screen is sent, so the first screen fits the viewer.',
    tags: ['sessions'],
    params: SessionIdParams,
    query: Type.Object({
      snapshot: Type.Optional(Type.Boolean({ default: true })),
      cols: Type.Optional(Type.Integer({ minimum: 10, maximum: 1000, description: 'The viewer’s width, taken before the first screen (with rows)' })),
      rows: Type.Optional(Type.Integer({ minimum: 5, maximum: 500, description: 'The viewer’s height, taken before the first screen (with cols)' })),
      lines: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 100_000, description: 'Start with the last `lines` lines of output up to the cursor, as plain text, instead of the screen (`tail -f`)' }),
      ),
    }),
  }),
};

/**
 * How the daemon closes a terminal WebSocket, and why: a client reconnects
 * after any other close (a restart, a drop), never after these.
 */
export const TerminalClose = {
  /** The session ended (or had ended when the socket opened). */
  ended: 1000,
  /** A message that is neither input nor a resize. */
  badMessage: 4400,
  /** No such session. */
  notFound: 4404,
} as const;

/** Whether a terminal socket closed for good: reconnecting would get the same answer. */
export const terminalClosedForGood = (code: number): boolean => (Object.values(TerminalClose) as number[]).includes(code);

/** Text messages the daemon sends on a terminal WebSocket. */
export type TerminalServerMessage = { type: 'ready'; cols: number; rows: number } | { type: 'error'; message: string };

/** Messages a terminal WebSocket client may send as text frames. */
export const TerminalClientMessage = Type.Union([
  Type.Object({ type: Type.Literal('input'), data: Type.String({ maxLength: 65536 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('resize'), cols: Type.Integer({ minimum: 10, maximum: 1000 }), rows: Type.Integer({ minimum: 5, maximum: 500 }) }, { additionalProperties: false }),
]);
export type TerminalClientMessage = Static<typeof TerminalClientMessage>;
