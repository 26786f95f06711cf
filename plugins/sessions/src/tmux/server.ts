import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@codepiper/sdk';
import type { KeyName, Screen } from '@codepiper/sessions-contract';
import { HAS_PROC, parentPid } from '../control-guard.js';
import { CommandChannel } from './channel.js';
import type { ControlClient } from './control.js';
import { TmuxError } from './errors.js';
import { escapeFormat, parseTmuxVersion, quote, quoteWord, type TmuxVersion } from './protocol.js';
import { PaneInput } from './pane-input.js';
import { PanePipe } from './pane-pipe.js';
import { adoptDaemonEnv, environmentChanges, tmuxEnv } from './environment.js';
import { CONTROL_SESSION, PANE_FORMAT, parseRecords, type TmuxSessionInfo } from './records.js';
import { DeathWatch, type TmuxEvents } from './deaths.js';
import { assertDirectory, assertExecutable, assertPane, assertSessionName, assertSize } from './requests.js';
import { ScratchDir } from './scratch.js';
import { SessionWatch, type WatchOptions } from './watch.js';

export type { TmuxSessionInfo } from './records.js';
export type { PaneDiedEvent, SessionGoneEvent, TmuxEvents } from './deaths.js';
export { CONTROL_SESSION } from './records.js';

/** How long a kill waits for a watcher to receive what the session already printed. */
const WATCH_DRAIN_TIMEOUT_MS = 10_000;

export interface TmuxServerOptions {
  /** The private server's socket (keep it short: Unix socket paths are limited to ~100 bytes). */
  socketPath: string;
  /** The tmux program (default `tmux` on PATH). */
  tmuxBin?: string;
  log: Logger;
  /** A control command unanswered for this long restarts the control client (default 15 s). */
  commandTimeoutMs?: number;
}

export interface CreateSessionOptions {
  /** `^[A-Za-z0-9_-]+$`, at most 100 characters. */
  name: string;
  /** Absolute path of an existing directory. */
  cwd: string;
  /** Program and arguments, executed directly (never through a shell). */
  argv: readonly string[];
  /**
   * Added to the program's environment; `null` removes a variable. Once the
   * program has started they are removed from the tmux session's environment
   * (`show-environment`), so they live only in the program's own.
   */
  env?: Readonly<Record<string, string | null>>;
  /** Set in the tmux session's environment and kept there (not secret): every pane of the session gets them. */
  sessionEnv?: Readonly<Record<string, string>>;
  cols?: number;
  rows?: number;
}

export interface CreatedSession {
  name: string;
  paneId: string;
  pid: number;
}


export interface CaptureOptions {
  /** Keep colours and attributes as escape sequences. */
  escapes?: boolean;
  /** Also this many lines of scrollback above the screen. */
  scrollbackLines?: number;
  /** Join lines the terminal wrapped. */
  joinWrapped?: boolean;
}

export const MIN_TMUX = { major: 3, minor: 2 } as const;

const ENV_BIN = '/usr/bin/env';
/**
 * While programs run, how often their state is asked for: the fallback for an
 * exit the `pane-died` hook did not report. Not a control-mode subscription
 * (`refresh-client -B`): tmux 3.3a's subscription timer dereferences a control
 * client's session that can be NULL (control_check_subs_session; dmesg:
 * "segfault at 0 ... in tmux[3dd8c]"), and a crashed server ends every session.
 */
const STATE_POLL_MS = 1_000;
const SETUP = [
  'set-option -s escape-time 0',
  'set-option -s exit-empty off',
  'set-option -s focus-events on',
  'set-option -g remain-on-exit on',
  'set-option -g history-limit 10000',
  'set-option -g status off',
  // A death is heard at once, as the hidden session's output (see channel.ts, CONTROL_PROGRAM).
  `set-hook -g pane-died ${quote(`send-keys -t =${CONTROL_SESSION}: Enter`)}`,
];


/**
 * The daemon's private tmux server (`tmux -S <socket>`), driven through one
 * persistent control-mode client: no process is spawned per keystroke,
 * screen read or status check. User text never appears in a tmux command
 * line (it is typed as hex bytes), and nothing is ever run through a shell.
 */
export class TmuxServer {
  readonly socketPath: string;
  readonly tmuxBin: string;
  private readonly log: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private readonly commandTimeoutMs: number;
  private tmuxVersion: TmuxVersion | undefined;
  private readonly channel: CommandChannel;
  private statePoller: NodeJS.Timeout | undefined;
  /** A list of sessions is asked for and not yet answered, and whether another is due once it is (see refreshState). */
  private stateQuerying = false;
  private stateStale = false;
  private closed = false;
  private serverPid: number | undefined;
  private readonly deaths: DeathWatch;
  private readonly watches = new Map<string, SessionWatch>();
  private readonly scratch: ScratchDir;
  private readonly input: PaneInput;

  private constructor(options: TmuxServerOptions) {
    this.socketPath = options.socketPath;
    this.tmuxBin = options.tmuxBin ?? 'tmux';
    this.log = options.log.child({ component: 'tmux' });
    this.commandTimeoutMs = options.commandTimeoutMs ?? 15_000;
    this.env = tmuxEnv();
    this.channel = new CommandChannel({
      tmuxBin: this.tmuxBin,
      socketPath: this.socketPath,
      env: this.env,
      log: this.log,
      commandTimeoutMs: this.commandTimeoutMs,
      setUp: (client) => this.setUp(client),
      onConnected: () => this.watchExits(),
      onNotification: (client, name) => this.onNotification(client, name),
      onExitSignal: () => this.refreshState(),
    });
    this.scratch = new ScratchDir(path.dirname(this.socketPath));
    this.input = new PaneInput(() => this.control(), this.scratch);
    this.deaths = new DeathWatch({ log: this.log, serverPid: () => this.serverPid, requery: () => this.refreshState() });
  }

  /**
   * Starts the private server if needed, connects the command channel and
   * checks tmux (≥ 3.2). The version comes from the server over the channel:
   * a `tmux -V` of its own cost each start a process (and ~20 ms) more. Only
   * a connection that fails runs it, to say whether tmux is missing or too old.
   */
  static async open(options: TmuxServerOptions): Promise<TmuxServer> {
    if (!path.isAbsolute(options.socketPath) || Buffer.byteLength(options.socketPath) > 100) {
      throw new TmuxError('invalid_request', `the tmux socket path must be absolute and at most 100 bytes (Unix socket limit): ${options.socketPath}`);
    }
    await mkdir(path.dirname(options.socketPath), { recursive: true, mode: 0o700 });
    const server = new TmuxServer(options);
    try {
      await server.control();
    } catch (error) {
      supported(await TmuxServer.version(server.tmuxBin), server.tmuxBin);
      throw error;
    }
    // What a daemon killed before its clean-up left: nothing waits on it.
    server.scratch.removeLeftovers().catch((error: unknown) => server.log.warn({ err: error }, 'could not remove the scratch files of an ended daemon'));
    return server;
  }

  /** The version of a tmux program (`tmux -V`). */
  static async version(tmuxBin = 'tmux'): Promise<TmuxVersion> {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(tmuxBin, ['-V'], { env: tmuxEnv(), timeout: 10_000, encoding: 'utf8' }, (error, out) => {
        if (error) reject(new TmuxError('tmux_unavailable', `cannot run ${tmuxBin} -V: ${error.message}`));
        else resolve(out);
      });
    });
    try {
      return parseTmuxVersion(stdout);
    } catch (error) {
      throw new TmuxError('tmux_unavailable', (error as Error).message);
    }
  }

  /** The pid of the private tmux server, once connected: every session's program descends from it. */
  get pid(): number | undefined {
    return this.serverPid;
  }

  /** The version of the tmux this server runs with. */
  version(): TmuxVersion {
    return this.tmuxVersion!;
  }

  /** Listens to `pane-died` / `session-gone`; returns the function that stops listening. */
  on<K extends keyof TmuxEvents>(event: K, listener: (event: TmuxEvents[K]) => void): () => void {
    return this.deaths.on(event, listener);
  }

  /** Starts a program in a new session. The program is executed directly, never through a shell. */
  async createSession(options: CreateSessionOptions): Promise<CreatedSession> {
    const { name, argv } = options;
    assertSessionName(name);
    if (name === CONTROL_SESSION) throw new TmuxError('invalid_request', `the session name ${name} is reserved`);
    const cols = options.cols ?? 80;
    const rows = options.rows ?? 24;
    assertSize(cols, rows);
    if (argv.length === 0 || !argv[0]) throw new TmuxError('invalid_request', 'the command is empty');
    for (const arg of argv) if (arg.includes('\0')) throw new TmuxError('invalid_request', 'a command argument contains a NUL byte');
    const { additions, removals, transient } = environmentChanges(options.env ?? {}, options.sessionEnv ?? {});
    await assertDirectory(options.cwd);
    const envPath = options.env?.PATH;
    await assertExecutable(argv[0], options.cwd, envPath === null ? undefined : (envPath ?? this.env.PATH));

    // tmux runs a one-word command through `sh -c`; two words or more are
    // exec'd directly. `env` also removes variables tmux would pass on.
    let command = [...argv];
    if (removals.length > 0 || argv.length === 1) {
      if (argv[0].includes('=')) throw new TmuxError('invalid_request', `cannot run a program whose name contains "=": ${argv[0]}`);
      command = [ENV_BIN, ...removals.flatMap((key) => ['-u', key]), '--', ...argv];
    }

    // Sent over the control channel (started first, so the server is up,
    // configured and watched before the session exists), not as a process's
    // arguments: the environment, named secrets among it, never shows in `ps`.
    const newSession = [
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      String(cols),
      '-y',
      String(rows),
      // -c is expanded as a format (`#(...)` would run a shell command): escape `#`.
      '-c',
      escapeFormat(options.cwd),
      ...additions.flatMap((pair) => ['-e', pair]),
      '-P',
      '-F',
      '#{pane_id} #{pane_pid}',
      '--',
      ...command,
    ];
    // Clients (a user attaching, control clients) must never resize it.
    const fixedSize = ['set-option', '-w', '-t', `=${name}:`, 'window-size', 'manual'];
    // The server built the program's environment before new-session answered:
    // what `-e` put in the session's environment is no longer needed there.
    const forget = transient.map((key) => ['set-environment', '-t', `=${name}`, '-u', key]);
    // One command a line: the control channel pairs each line with one reply.
    const stdout = (await this.change((client) => client.command(newSession.map(quoteWord).join(' ')))).join('\n');
    const match = /^(%\d+) (\d+)$/m.exec(stdout);
    if (!match) throw new TmuxError('tmux_error', `unexpected reply from new-session: ${JSON.stringify(stdout.slice(0, 200))}`);
    await Promise.all([fixedSize, ...forget].map((words) => this.command(words.map(quoteWord).join(' '))));
    // Learn about it now, so a death or loss is reported even if it comes at once.
    await this.queryState().catch(() => undefined);
    return { name, paneId: match[1]!, pid: Number(match[2]) };
  }

  /** Every session but the hidden control session. */
  async listSessions(): Promise<TmuxSessionInfo[]> {
    return (await this.queryState()).filter((s) => s.name !== CONTROL_SESSION);
  }

  async hasSession(name: string): Promise<boolean> {
    assertSessionName(name);
    try {
      await this.command(`has-session -t ${quote(`=${name}`)}`);
      return true;
    } catch (error) {
      if (error instanceof TmuxError && error.code === 'not_found') return false;
      throw error;
    }
  }

  /** Kills a session and its program (false if there was none); its watchers first receive everything it printed. */
  async killSession(name: string): Promise<boolean> {
    assertSessionName(name);
    const watch = this.watches.get(name);
    await watch?.drain(WATCH_DRAIN_TIMEOUT_MS);
    const client = await this.control();
    try {
      // The session's watch client, if any, leaves with it.
      await this.channel.gate.leave(() => client.command(`kill-session -t ${quote(`=${name}`)}`), watch?.clientEnded ?? Promise.resolve());
      return true;
    } catch (error) {
      if (error instanceof TmuxError && error.code === 'not_found') return false;
      throw error;
    }
  }

  /** The id (`%N`) of a session's pane. */
  async sessionPane(name: string): Promise<string> {
    assertSessionName(name);
    const [pane] = await this.command(`list-panes -t ${quote(`=${name}:`)} -F '#{pane_id}'`);
    if (!pane) throw new TmuxError('not_found', `no pane in session ${name}`);
    return pane;
  }

  /** Types text literally (see PaneInput.typeText). */
  typeText(pane: string, text: string): Promise<void> {
    return this.input.typeText(pane, text);
  }

  /** Pastes text, bracketed unless told not to (see PaneInput.pasteText). */
  pasteText(pane: string, text: string, options: { bracketed?: boolean } = {}): Promise<void> {
    return this.input.pasteText(pane, text, options);
  }

  /** Presses keys, in order. */
  pressKeys(pane: string, keys: readonly KeyName[]): Promise<void> {
    return this.input.pressKeys(pane, keys);
  }

  /** The pane's text (and optionally scrollback), trailing blank lines removed. */
  async capture(pane: string, options: CaptureOptions = {}): Promise<string> {
    assertPane(pane);
    let command = 'capture-pane -p';
    if (options.escapes) command += ' -e';
    if (options.joinWrapped) command += ' -J';
    if (options.scrollbackLines !== undefined) {
      const lines = options.scrollbackLines;
      if (!Number.isInteger(lines) || lines < 0) throw new TmuxError('invalid_request', 'scrollbackLines must be a whole number ≥ 0');
      if (lines > 0) command += ` -S -${lines}`;
    }
    return trimTrailingBlank(await this.command(`${command} -t ${pane}`)).join('\n');
  }

  /** The visible screen as text with its size and cursor, read in one step. */
  async screen(pane: string): Promise<Screen> {
    assertPane(pane);
    const client = await this.control();
    const [info, rows] = await client.commands([
      `display-message -p -t ${pane} '#{cursor_x} #{cursor_y} #{pane_width} #{pane_height}'`,
      `capture-pane -p -t ${pane}`,
    ]);
    const [x, y, cols, height] = (info?.[0] ?? '').split(' ').map((n) => Number.parseInt(n, 10) || 0);
    return { text: trimTrailingBlank(rows ?? []).join('\n'), cols: cols ?? 0, rows: height ?? 0, cursor: { x: x ?? 0, y: y ?? 0 } };
  }

  async resize(name: string, cols: number, rows: number): Promise<void> {
    assertSessionName(name);
    assertSize(cols, rows);
    await this.command(`resize-window -t ${quote(`=${name}:`)} -x ${cols} -y ${rows}`);
  }

  /**
   * The pid of the pane's program, or null if it has ended or the pane is gone.
   * tmux reports a pane as alive, with its program's pid, until it reads the
   * end of the pty, which can come after it reaped the program: by then the
   * pid may be another process's (a stop's SIGHUP once reached a program in
   * another tmux server). Where /proc tells, a pid that is not a child of
   * this tmux server counts as ended.
   */
  async panePid(pane: string): Promise<number | null> {
    assertPane(pane);
    let lines: string[];
    try {
      lines = await this.command(`list-panes -t ${pane} -F '#{pane_id} #{pane_pid} #{pane_dead}'`);
    } catch (error) {
      if (error instanceof TmuxError && error.code === 'not_found') return null;
      throw error;
    }
    for (const line of lines) {
      const [id, pid, dead] = line.split(' ');
      if (id === pane) return dead === '1' ? null : this.ownChild(Number(pid) || null);
    }
    return null;
  }

  private async ownChild(pid: number | null): Promise<number | null> {
    if (pid === null || this.serverPid === undefined || !HAS_PROC) return pid;
    try {
      return (await parentPid(pid)) === this.serverPid ? pid : null;
    } catch {
      return null; // it has exited
    }
  }

  /**
   * Streams a session's terminal: the current screen first (unless
   * `snapshot: false`), then every byte as printed. Watchers of one session
   * share one read-only control client, which exists only while someone
   * watches. Returns the function that stops watching.
   */
  watch(session: string, options: WatchOptions): () => void;
  watch(session: string, onData: (data: Buffer) => void, onEnd?: (reason: string) => void): () => void;
  watch(session: string, options: WatchOptions | ((data: Buffer) => void), onEnd?: (reason: string) => void): () => void {
    assertSessionName(session);
    const watchOptions: WatchOptions = typeof options === 'function' ? { onData: options, onEnd } : options;
    const first = watchOptions.snapshot;
    if (typeof first === 'object' && !(Number.isInteger(first.lines) && first.lines >= 1)) {
      throw new TmuxError('invalid_request', 'snapshot lines must be a whole number ≥ 1');
    }
    if (this.closed) {
      queueMicrotask(() => watchOptions.onEnd?.('the tmux connection is closed'));
      return () => undefined;
    }
    let watch = this.watches.get(session);
    if (!watch) {
      const created = new SessionWatch(
        session,
        { tmuxBin: this.tmuxBin, socketPath: this.socketPath, env: this.env, log: this.log, commandTimeoutMs: this.commandTimeoutMs, gate: this.channel.gate },
        this.log,
        async () => PanePipe.open(await this.scratch.path('pipe')),
        (ended) => {
          if (this.watches.get(session) === ended) this.watches.delete(session);
        },
      );
      this.watches.set(session, created);
      watch = created;
    }
    return watch.subscribe(watchOptions);
  }

  /** How many watch clients run (one per watched session), and their pids: for tests and diagnostics. */
  watchClients(): { session: string; subscribers: number; pid: number | undefined }[] {
    return [...this.watches.values()].map((w) => ({ session: w.session, subscribers: w.size, pid: w.pid }));
  }

  /** Stops the control clients. Sessions and their programs keep running. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.shutdown();
  }

  /** Kills the private server if no session is left, then closes. Returns whether it did. */
  async killServerIfIdle(): Promise<boolean> {
    if ((await this.listSessions()).length > 0) return false;
    await this.channel.killServer();
    this.closed = true;
    await this.shutdown();
    return true;
  }

  /* ----- internals ----- */

  private async shutdown(): Promise<void> {
    clearInterval(this.statePoller);
    this.deaths.close();
    for (const watch of [...this.watches.values()]) watch.close('the tmux connection is closed');
    this.watches.clear();
    await this.scratch.remove();
    await this.channel.close();
  }

  private async command(command: string): Promise<string[]> {
    return (await this.control()).command(command);
  }

  /** Runs commands that make tmux notify every control client (see ControlGate) through the channel's client. */
  private async change<T>(work: (client: ControlClient) => Promise<T>): Promise<T> {
    const client = await this.control();
    return this.channel.gate.change(() => work(client));
  }

  /** The command channel, (re)connected if needed. */
  private control(): Promise<ControlClient> {
    if (this.closed) return Promise.reject(new TmuxError('tmux_disconnected', 'the tmux connection is closed'));
    return this.channel.get();
  }

  /** Configures the server over a new, attached command client and learns what runs there, before the client becomes the channel. */
  private async setUp(client: ControlClient): Promise<void> {
    // tmux 3.3+: no "Pane is dead" line written over a finished program's last screen.
    const quiet = client.command(`set-option -g remain-on-exit-format ''`).catch(() => undefined);
    const version = client.command(`display-message -p 'tmux #{version}'`);
    const pid = client.command(`display-message -p '#{pid}'`);
    const state = client.command(`list-sessions -F ${quote(PANE_FORMAT)}`);
    await Promise.all([...SETUP.map((command) => client.command(command)), quiet, adoptDaemonEnv(client, this.env), version, pid, state]);
    this.tmuxVersion = supported(parseTmuxVersion((await version)[0] ?? ''), this.tmuxBin);
    this.serverPid = Number((await pid)[0]) || undefined;
    const records = parseRecords(await state);
    if (records.some((r) => r.dead && r.exitCode === null && r.signal === null) && this.serverPid !== undefined) {
      // Programs that ended while nobody watched may still wait to be reaped (see DeathWatch's nudgeReaper).
      process.kill(this.serverPid, 'SIGCHLD');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await this.listState(client);
    } else {
      this.deaths.apply(records);
    }
  }

  /**
   * The channel is up: the `pane-died` hook's signal reaches it from now on
   * (see refreshState); the state poll, once a second, is the fallback.
   */
  private watchExits(): void {
    this.deaths.startReaping();
    this.statePoller ??= setInterval(() => {
      if (this.deaths.anyRunning() && this.channel.alive) this.refreshState();
    }, STATE_POLL_MS).unref();
  }

  /**
   * Lists the sessions again; asked while a list is on its way, asks once
   * more when it has come (it may have been made before what the caller
   * learnt): a burst of exits costs two lists, not one each.
   */
  private refreshState(): void {
    if (this.stateQuerying) {
      this.stateStale = true;
      return;
    }
    this.stateQuerying = true;
    void this.queryState()
      .catch(() => undefined)
      .finally(() => {
        this.stateQuerying = false;
        if (!this.stateStale || this.closed) return;
        this.stateStale = false;
        this.refreshState();
      });
  }

  private onNotification(client: ControlClient, name: string): void {
    if (name === 'sessions-changed') this.listState(client).catch((error: Error) => this.log.debug({ err: error }, 'listing tmux sessions failed'));
  }

  private async queryState(): Promise<TmuxSessionInfo[]> {
    return this.listState(await this.control());
  }

  /**
   * Lists the sessions over `client` and applies the list the moment its
   * reply ends, before any later line of the stream is handled. Applied once
   * each awaited reply came back instead, an older list could overtake a
   * newer one (replies that end in one chunk resolve together, and awaits of
   * different depths run in another order): a session just created would be
   * taken for lost, and ended.
   */
  private listState(client: ControlClient): Promise<TmuxSessionInfo[]> {
    let records: TmuxSessionInfo[] = [];
    const apply = ([lines]: string[][]) => {
      records = parseRecords(lines ?? []);
      this.deaths.apply(records);
      if (records.some((r) => r.name === CONTROL_SESSION && r.dead)) {
        this.channel.runControlProgram(client).catch((error: Error) => this.log.warn({ err: error }, 'could not restart the hidden session\'s program'));
      }
    };
    return client.command(`list-sessions -F ${quote(PANE_FORMAT)}`, { onDone: apply }).then(() => records);
  }

}

/** `version`, if tmux of that version can serve CodePiper; else a `tmux_unavailable` naming the version needed. */
function supported(version: TmuxVersion, tmuxBin: string): TmuxVersion {
  const { major, minor } = version;
  if (major > MIN_TMUX.major || (major === MIN_TMUX.major && minor >= MIN_TMUX.minor)) return version;
  throw new TmuxError('tmux_unavailable', `${version.text} is too old: CodePiper needs tmux ${MIN_TMUX.major}.${MIN_TMUX.minor} or newer (${tmuxBin})`);
}

function trimTrailingBlank(lines: readonly string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  return lines.slice(0, end);
}
