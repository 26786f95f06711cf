import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { KeyedLock, type Logger } from '@codepiper/sdk';
import type { KeyName, Screen } from '@codepiper/sessions-contract';
import { parentPid } from '../control-guard.js';
import { ControlClient } from './control.js';
import { TmuxError } from './errors.js';
import { tmuxKey } from './keys.js';
import { escapeFormat, hexArgs, parseTmuxVersion, quote, quoteWord, type TmuxVersion } from './protocol.js';
import { PanePipe } from './pane-pipe.js';
import { adoptDaemonEnv, environmentChanges, tmuxEnv } from './environment.js';
import { PANE_FORMAT, parseRecords, type TmuxSessionInfo } from './records.js';
import { assertDirectory, assertExecutable, assertPane, assertSessionName, assertSize } from './requests.js';
import { SessionWatch, type WatchOptions } from './watch.js';

export type { TmuxSessionInfo } from './records.js';

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


export interface PaneDiedEvent {
  session: string;
  pane: string;
  /** null when the program was killed by a signal or its status is unknown. */
  exitCode: number | null;
  signal: number | null;
  /** `SIGTERM`... when `signal` is set. */
  signalName: string | null;
}

export interface SessionGoneEvent {
  session: string;
}

export interface TmuxEvents {
  'pane-died': PaneDiedEvent;
  'session-gone': SessionGoneEvent;
}

export interface CaptureOptions {
  /** Keep colours and attributes as escape sequences. */
  escapes?: boolean;
  /** Also this many lines of scrollback above the screen. */
  scrollbackLines?: number;
  /** Join lines the terminal wrapped. */
  joinWrapped?: boolean;
}

/** The hidden session the command channel attaches to; never listed. */
export const CONTROL_SESSION = '_codepiper';
export const MIN_TMUX = { major: 3, minor: 2 } as const;

const ENV_BIN = '/usr/bin/env';
/**
 * Bytes per `send-keys -H` command. tmux's parser overflows past ~10000
 * arguments and gets slower per argument as a command grows: 64 is the
 * fastest here (about 1.5 µs a byte; 1024 takes three times longer).
 */
const TYPE_CHUNK = 64;
const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;
/** How long a dead pane may lack an exit status before it is reported without one. */
const STATUS_GRACE_MS = 3000;
/**
 * While programs run, how often their state is asked for: the fallback for an
 * exit the `pane-died` hook did not report. Not a control-mode subscription
 * (`refresh-client -B`): tmux 3.3a's subscription timer dereferences a control
 * client's session that can be NULL (control_check_subs_session; dmesg:
 * "segfault at 0 ... in tmux[3dd8c]"), and a crashed server ends every session.
 */
const STATE_POLL_MS = 1_000;
/** Linux: a process's parent can be read, to tell a pane's program from a process that took its pid. */
const HAS_PROC = existsSync('/proc/self/stat');
/** How long creating or killing a session waits for our control clients to finish connecting (see quietClients). */
const CONNECTING_WAIT_MS = 3_000;
/** The `wait-for` channel the `pane-died` hook signals. */
const EXIT_CHANNEL = 'codepiper-exit';
/** The exit waiter's one command blocks until a program exits: no timeout of its own. */
const EXIT_WAIT_TIMEOUT_MS = 2 ** 31 - 1;
const EXIT_WAITER_RESTART_MS = 1_000;
/** While programs run, how often the server is made to reap (see nudgeReaper): a missed SIGCHLD costs at most this. */
const REAP_TICK_MS = 40;

const SETUP = [
  'set-option -s escape-time 0',
  'set-option -s exit-empty off',
  'set-option -s focus-events on',
  'set-option -g remain-on-exit on',
  'set-option -g history-limit 10000',
  'set-option -g status off',
  // A death wakes the exit waiter at once (see watchExits); a wake with no waiter is kept for the next wait.
  `set-hook -g pane-died ${quote(`wait-for -S ${EXIT_CHANNEL}`)}`,
];

const SIGNAL_NAMES = new Map<number, string>(Object.entries(osConstants.signals).map(([name, num]) => [num, name]));

interface Known {
  paneId: string;
  reported: boolean;
  timer?: NodeJS.Timeout;
  last: TmuxSessionInfo;
}

type Listener<K extends keyof TmuxEvents> = (event: TmuxEvents[K]) => void;

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
  private channel: ControlClient | undefined;
  private exitWaiter: ControlClient | undefined;
  private reapTicker: NodeJS.Timeout | undefined;
  private statePoller: NodeJS.Timeout | undefined;
  /** The `ready` of each of our control clients still connecting. */
  private readonly clientsConnecting = new Set<Promise<void>>();
  private connecting: Promise<ControlClient> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs = 250;
  private closed = false;
  private seeded = false;
  private serverPid: number | undefined;
  private lastNudge = 0;
  private nudgeLater: NodeJS.Timeout | undefined;
  private readonly known = new Map<string, Known>();
  private readonly watches = new Map<string, SessionWatch>();
  /** Per pane, the last input operation: input reaches a pane in the order it was asked for. */
  private readonly inputLanes = new KeyedLock();
  /** A private directory (mode 0700, a path with no character a shell or tmux would read) for paste files and watch pipes. */
  private scratchDir: Promise<string> | undefined;
  private pastes = 0;
  private pipes = 0;
  private readonly listeners: { [K in keyof TmuxEvents]: Set<Listener<K>> } = { 'pane-died': new Set(), 'session-gone': new Set() };

  private constructor(options: TmuxServerOptions) {
    this.socketPath = options.socketPath;
    this.tmuxBin = options.tmuxBin ?? 'tmux';
    this.log = options.log.child({ component: 'tmux' });
    this.commandTimeoutMs = options.commandTimeoutMs ?? 15_000;
    this.env = tmuxEnv();
  }

  /** Checks tmux (≥ 3.2), starts the private server if needed and connects the command channel. */
  static async open(options: TmuxServerOptions): Promise<TmuxServer> {
    if (!path.isAbsolute(options.socketPath) || Buffer.byteLength(options.socketPath) > 100) {
      throw new TmuxError('invalid_request', `the tmux socket path must be absolute and at most 100 bytes (Unix socket limit): ${options.socketPath}`);
    }
    await mkdir(path.dirname(options.socketPath), { recursive: true, mode: 0o700 });
    const server = new TmuxServer(options);
    server.tmuxVersion = await TmuxServer.version(server.tmuxBin);
    const { major, minor } = server.tmuxVersion;
    if (major < MIN_TMUX.major || (major === MIN_TMUX.major && minor < MIN_TMUX.minor)) {
      throw new TmuxError('tmux_unavailable', `${server.tmuxVersion.text} is too old: CodePiper needs tmux ${MIN_TMUX.major}.${MIN_TMUX.minor} or newer (${server.tmuxBin})`);
    }
    await server.control();
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
  on<K extends keyof TmuxEvents>(event: K, listener: Listener<K>): () => void {
    const set = this.listeners[event] as Set<Listener<K>>;
    set.add(listener);
    return () => set.delete(listener);
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
    await this.control();
    await this.quietClients();
    // One command a line: the control channel pairs each line with one reply.
    const stdout = (await this.command(newSession.map(quoteWord).join(' '))).join('\n');
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
    await this.watches.get(name)?.drain(WATCH_DRAIN_TIMEOUT_MS);
    await this.control();
    await this.quietClients();
    try {
      await this.command(`kill-session -t ${quote(`=${name}`)}`);
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

  /**
   * Types text literally, as UTF-8 bytes (`send-keys -H`): never interpreted
   * by tmux or a shell; no text ever appears in a tmux command line. About
   * 1.5 µs a byte; see pasteText for large text.
   */
  async typeText(pane: string, text: string): Promise<void> {
    assertPane(pane);
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length === 0) return;
    return this.input(pane, async () => {
      const client = await this.control();
      const sends: Promise<string[]>[] = [];
      for (let start = 0; start < bytes.length; start += TYPE_CHUNK) {
        sends.push(client.command(`send-keys -t ${pane} -H ${hexArgs(bytes, start, Math.min(start + TYPE_CHUNK, bytes.length))}`));
      }
      await Promise.all(sends);
    });
  }

  /**
   * Pastes text: the bytes reach the program unchanged, like typeText, but
   * in one write (fast for large text) and, if `bracketed` (default) and the
   * program asked for bracketed paste, between `ESC[200~` and `ESC[201~` so
   * that newlines do not submit. The text goes through a private file that
   * tmux loads (`load-buffer` + `paste-buffer -d -r`), never a command line.
   */
  async pasteText(pane: string, text: string, options: { bracketed?: boolean } = {}): Promise<void> {
    assertPane(pane);
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length === 0) return;
    return this.input(pane, async () => {
      const dir = await this.scratch();
      const buffer = `cp-paste-${process.pid}-${++this.pastes}`;
      const file = path.join(dir, buffer);
      await writeFile(file, bytes, { mode: 0o600 });
      try {
        const client = await this.control();
        await client.commands([`load-buffer -b ${buffer} ${quote(file)}`, `paste-buffer -d -r ${options.bracketed === false ? '' : '-p '}-b ${buffer} -t ${pane}`]);
      } finally {
        await rm(file, { force: true });
      }
    });
  }

  /** Presses keys, in order. */
  async pressKeys(pane: string, keys: readonly KeyName[]): Promise<void> {
    assertPane(pane);
    if (keys.length === 0) return;
    const names = keys.map((key) => {
      const name = tmuxKey(key);
      if (name === undefined) throw new TmuxError('invalid_request', `unknown key ${JSON.stringify(key)}`);
      return quote(name);
    });
    return this.input(pane, async () => {
      await this.command(`send-keys -t ${pane} ${names.join(' ')}`);
    });
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
        { tmuxBin: this.tmuxBin, socketPath: this.socketPath, env: this.env, log: this.log, commandTimeoutMs: this.commandTimeoutMs },
        this.log,
        async () => PanePipe.open(path.join(await this.scratch(), `pipe-${++this.pipes}`)),
        (ended) => {
          if (this.watches.get(session) === ended) this.watches.delete(session);
        },
      );
      this.watches.set(session, created);
      this.track(created.connected);
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
    const channel = await this.control();
    this.closed = true;
    // The server exits before it can answer.
    await channel.command('kill-server').catch(() => undefined);
    await this.shutdown();
    return true;
  }

  /* ----- internals ----- */

  private scratch(): Promise<string> {
    return (this.scratchDir ??= mkdtemp(path.join(SAFE_PATH.test(tmpdir()) ? tmpdir() : '/tmp', 'cp-scratch-')));
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    this.exitWaiter?.kill('the tmux connection is closed');
    clearInterval(this.reapTicker);
    clearInterval(this.statePoller);
    for (const known of this.known.values()) clearTimeout(known.timer);
    for (const watch of [...this.watches.values()]) watch.close('the tmux connection is closed');
    this.watches.clear();
    const scratchDir = this.scratchDir;
    this.scratchDir = undefined;
    const dir = await scratchDir?.catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    const channel = this.channel;
    this.channel = undefined;
    if (channel?.alive) {
      await new Promise<void>((resolve) => {
        channel.onExit = () => resolve();
        channel.close();
      });
    }
  }

  /** Runs input operations for one pane one after the other, in call order. */
  private input(pane: string, operation: () => Promise<void>): Promise<void> {
    return this.inputLanes.run(pane, operation);
  }

  private async command(command: string): Promise<string[]> {
    return (await this.control()).command(command);
  }

  /** The command channel, (re)connected if needed. */
  private control(): Promise<ControlClient> {
    if (this.closed) return Promise.reject(new TmuxError('tmux_disconnected', 'the tmux connection is closed'));
    if (this.channel?.alive) return Promise.resolve(this.channel);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<ControlClient> {
    // The hidden session keeps the server alive and gives the channel something to attach to.
    try {
      await this.exec(['new-session', '-d', '-s', CONTROL_SESSION, '-x', '80', '-y', '24', '--', 'sh', '-c', 'while :; do sleep 86400; done']);
    } catch (error) {
      if (!(error instanceof TmuxError && error.code === 'duplicate_session')) throw error;
    }
    const client = this.controlSessionClient(this.commandTimeoutMs);
    client.onNotification = (name) => this.onNotification(client, name);
    client.onExit = (reason) => this.onChannelExit(client, reason);
    try {
      const setup = SETUP.map((command) => client.command(command));
      // tmux 3.3+: no "Pane is dead" line written over a finished program's last screen.
      const quiet = client.command(`set-option -g remain-on-exit-format ''`).catch(() => undefined);
      const pid = client.command(`display-message -p '#{pid}'`);
      const state = client.command(`list-sessions -F ${quote(PANE_FORMAT)}`);
      await client.ready;
      await Promise.all([...setup, quiet, adoptDaemonEnv(client, this.env), this.endOrphanedClients(client)]);
      this.serverPid = Number((await pid)[0]) || undefined;
      const records = parseRecords(await state);
      if (records.some((r) => r.dead && r.exitCode === null && r.signal === null) && this.serverPid !== undefined) {
        // Programs that ended while nobody watched may still wait to be reaped (see nudgeReaper).
        process.kill(this.serverPid, 'SIGCHLD');
        await new Promise((resolve) => setTimeout(resolve, 50));
        await this.listState(client);
      } else {
        this.applyState(records);
      }
    } catch (error) {
      client.kill('setup failed');
      throw error;
    }
    if (this.closed) {
      client.close();
      throw new TmuxError('tmux_disconnected', 'the tmux connection is closed');
    }
    this.channel = client;
    this.backoffMs = 250;
    this.watchExits();
    return client;
  }

  /**
   * Ends the control clients that an earlier daemon of this home, killed with
   * SIGKILL, left attached: nothing ends them (the exit waiter sits in
   * `wait-for`, and the server holds their stdin), and a server with such a
   * client outlives kill-server. Ours are known by their command line; one whose
   * parent is not this daemon is an orphan (one daemon per home, by its lock).
   */
  private async endOrphanedClients(client: ControlClient): Promise<void> {
    if (!HAS_PROC) return;
    for (const line of await client.command(`list-clients -F '#{client_pid} #{client_control_mode}'`)) {
      const [pid, control] = line.split(' ').map(Number);
      if (!pid || control !== 1) continue;
      try {
        const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
        const ours = argv.includes(this.socketPath) && argv.includes('/dev/null') && argv.includes('-C');
        if (!ours || (await parentPid(pid)) === process.pid) continue;
        this.log.info({ pid }, 'ending a tmux control client left by an earlier daemon');
        process.kill(pid, 'SIGTERM');
      } catch {
        // It has gone meanwhile.
      }
    }
  }

  /** A control client on the daemon's own tmux session, taking no output. */
  private controlSessionClient(commandTimeoutMs: number): ControlClient {
    return this.tracked(new ControlClient({
      tmuxBin: this.tmuxBin,
      socketPath: this.socketPath,
      env: this.env,
      session: CONTROL_SESSION,
      flags: ['ignore-size', 'no-output'],
      log: this.log,
      commandTimeoutMs,
    }));
  }

  private tracked(client: ControlClient): ControlClient {
    this.track(client.ready);
    return client;
  }

  private track(ready: Promise<void>): void {
    const settled = ready.catch(() => undefined);
    this.clientsConnecting.add(settled);
    void settled.then(() => this.clientsConnecting.delete(settled));
  }

  /**
   * Waits (a few seconds at most) until none of our control clients is still
   * connecting. tmux 3.3a writes `%sessions-changed` to every control client,
   * one that has not finished connecting too, whose control state does not
   * exist yet: the server crashes (dmesg: "segfault at 20 ... tmux[3da13]",
   * control_vwrite). Sessions come and go only by our new-session and
   * kill-session (remain-on-exit keeps a finished one), so those wait here.
   */
  private async quietClients(): Promise<void> {
    if (this.clientsConnecting.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECTING_WAIT_MS)));
    await Promise.race([Promise.all(this.clientsConnecting), cap]);
    clearTimeout(timer);
  }

  /**
   * A second control client that waits on the `pane-died` hook's channel, so
   * that a program's exit is noticed at once (the state poll, once
   * a second, is the fallback). One client for all sessions, no process per exit.
   */
  private watchExits(): void {
    if (this.closed || this.exitWaiter?.alive) return;
    const waiter = this.controlSessionClient(EXIT_WAIT_TIMEOUT_MS);
    this.exitWaiter = waiter;
    // A program whose SIGCHLD tmux missed fires no hook until the server reaps it: make it reap, cheaply, while any runs.
    this.reapTicker ??= setInterval(() => {
      if (this.serverPid === undefined || !this.anyRunning()) return;
      try {
        process.kill(this.serverPid, 'SIGCHLD');
      } catch {
        // The server is gone: the channel's reconnect says so.
      }
    }, REAP_TICK_MS).unref();
    this.statePoller ??= setInterval(() => {
      if (this.anyRunning() && this.channel?.alive) this.queryState().catch(() => undefined);
    }, STATE_POLL_MS).unref();
    void (async () => {
      while (!this.closed && waiter.alive) {
        await waiter.command(`wait-for ${EXIT_CHANNEL}`);
        await this.queryState().catch(() => undefined);
      }
    })().catch((error: Error) => {
      if (this.closed) return;
      // Until a new waiter runs, the state poll reports exits; with the server gone, reconnecting starts one.
      this.log.debug({ err: error }, 'the tmux exit waiter ended');
      waiter.kill('replaced');
      if (this.channel?.alive) setTimeout(() => this.watchExits(), EXIT_WAITER_RESTART_MS).unref();
    });
  }

  private onChannelExit(client: ControlClient, reason: string): void {
    if (this.channel !== client) return;
    this.channel = undefined;
    if (this.closed) return;
    this.log.warn({ reason }, 'the tmux control client ended; reconnecting');
    this.scheduleReconnect();
  }

  /** Reconnects in the background so that exits keep being reported. */
  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.closed) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed || this.channel?.alive) return;
      this.control().catch((error: Error) => {
        this.log.warn({ err: error }, 'reconnecting to tmux failed');
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }

  private onNotification(client: ControlClient, name: string): void {
    if (name === 'sessions-changed') this.listState(client).catch((error: Error) => this.log.debug({ err: error }, 'listing tmux sessions failed'));
  }

  /** Whether any known session's program still runs. */
  private anyRunning(): boolean {
    return [...this.known.values()].some((k) => !k.last.dead);
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
      this.applyState(records);
    };
    return client.command(`list-sessions -F ${quote(PANE_FORMAT)}`, { onDone: apply }).then(() => records);
  }

  /**
   * Compares a full list of sessions with what was known and reports deaths
   * and losses. Lists arrive through the one control stream in the order tmux
   * made them and are applied in that order (`listState`), so a later list
   * never describes an earlier moment.
   */
  private applyState(records: readonly TmuxSessionInfo[]): void {
    const seen = new Set<string>();
    for (const record of records) {
      if (record.name === CONTROL_SESSION) continue;
      seen.add(record.name);
      let known = this.known.get(record.name);
      if (!known || known.paneId !== record.paneId) {
        if (known) clearTimeout(known.timer);
        // What was already dead when we first looked is not news.
        known = { paneId: record.paneId, reported: !this.seeded && record.dead, last: record };
        this.known.set(record.name, known);
      }
      known.last = record;
      if (!record.dead || known.reported) continue;
      if (record.exitCode !== null || record.signal !== null) {
        this.reportDeath(record.name, known);
      } else {
        this.nudgeReaper();
        if (known.timer) continue;
        // No status yet: see nudgeReaper. Report without one if it never comes.
        const entry = known;
        entry.timer = setTimeout(() => {
          entry.timer = undefined;
          if (this.known.get(record.name) === entry && !entry.reported && !this.closed) this.reportDeath(record.name, entry);
        }, STATUS_GRACE_MS);
        entry.timer.unref();
      }
    }
    this.seeded = true;
    for (const [name, known] of this.known) {
      if (seen.has(name)) continue;
      clearTimeout(known.timer);
      this.known.delete(name);
      this.emit('session-gone', { session: name });
    }
  }

  /**
   * tmux built with libutempter (Debian, Ubuntu...) forks a helper when a pane
   * closes, with SIGCHLD set to SIG_DFL meanwhile: if the pane's program exits
   * in that window its SIGCHLD is lost, the program stays a zombie and the
   * pane is dead without a status until some other child of the server
   * exits. A SIGCHLD sent to the server makes it reap (waitpid loop) at once.
   */
  private nudgeReaper(): void {
    const now = Date.now();
    if (this.serverPid === undefined) return;
    const wait = this.lastNudge + 300 - now;
    if (wait > 0) {
      // At most one nudge each 300 ms, but a nudge asked for meanwhile still comes: one can land in the same window.
      this.nudgeLater ??= setTimeout(() => {
        this.nudgeLater = undefined;
        if (!this.closed) this.nudgeReaper();
      }, wait);
      this.nudgeLater.unref();
      return;
    }
    this.lastNudge = now;
    try {
      process.kill(this.serverPid, 'SIGCHLD');
    } catch {
      return;
    }
    setTimeout(() => {
      if (!this.closed) this.queryState().catch(() => undefined);
    }, 50).unref();
  }

  private reportDeath(session: string, known: Known): void {
    known.reported = true;
    clearTimeout(known.timer);
    known.timer = undefined;
    const { exitCode, signal, paneId } = known.last;
    this.emit('pane-died', { session, pane: paneId, exitCode, signal, signalName: signal === null ? null : (SIGNAL_NAMES.get(signal) ?? `SIG${signal}`) });
  }

  private emit<K extends keyof TmuxEvents>(event: K, payload: TmuxEvents[K]): void {
    this.log.debug({ event, ...payload }, 'tmux event');
    for (const listener of [...(this.listeners[event] as Set<Listener<K>>)]) {
      try {
        listener(payload);
      } catch (error) {
        this.log.error({ err: error, event }, 'a tmux event listener failed');
      }
    }
  }

  /** Runs a one-shot tmux client: argv only, no shell. */
  private exec(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.tmuxBin,
        ['-S', this.socketPath, '-f', '/dev/null', ...args],
        { env: this.env, timeout: this.commandTimeoutMs, maxBuffer: 1 << 20, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (!error) return resolve(stdout);
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new TmuxError('tmux_unavailable', `cannot run ${this.tmuxBin}: not found`));
          reject(TmuxError.fromTmux(stderr.trim() || stdout.trim() || error.message));
        },
      );
    });
  }
}

function trimTrailingBlank(lines: readonly string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  return lines.slice(0, end);
}
