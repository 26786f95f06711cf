import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from '@codepiper/sdk';
import { HAS_PROC, parentPid } from '../control-guard.js';
import { ControlClient } from './control.js';
import { ControlGate } from './control-gate.js';
import { TmuxError } from './errors.js';
import { quote, quoteWord } from './protocol.js';
import { CONTROL_SESSION } from './records.js';

const FIRST_RECONNECT_MS = 250;
const MAX_RECONNECT_MS = 10_000;
/** How often a server that dropped us as it exited is tried again (see reachServer), the waits growing by this much. */
const LOST_SERVER_TRIES = 5;
const LOST_SERVER_WAIT_MS = 50;
/**
 * For the server's malloc (glibc). tmux reallocates its history's index of
 * lines (48 bytes a line) on every line that scrolls; at our history limit
 * (10000 lines) the index is past glibc's default mmap threshold (128 KiB),
 * and each of those reallocations is then an mremap: a sixth more CPU for
 * tmux on a stream of lines. Under this threshold the index stays on the
 * heap. Sessions do not inherit it: the server's global environment becomes
 * the daemon's (adoptDaemonEnv).
 */
const SERVER_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: String(1024 * 1024) };
/**
 * The hidden session's program. The `pane-died` hook presses Enter in its
 * terminal; the terminal's echo reaches the channel as output, the one
 * notification tmux 3.3 sends a control client for what a hook did, and
 * this program reads the keys so that they never fill the terminal's input.
 * Two words: tmux runs it without a shell.
 */
const CONTROL_PROGRAM = ['cat', '-'] as const;

export interface CommandChannelOptions {
  tmuxBin: string;
  socketPath: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  commandTimeoutMs: number;
  /** Prepares a new client before it becomes the channel (the server's options, what it knows of sessions); a failure fails the connection. */
  setUp(client: ControlClient): Promise<void>;
  /** The channel is up, first or again. */
  onConnected(): void;
  onNotification(client: ControlClient, name: string): void;
  /** The hidden session printed: the `pane-died` hook signalled that a program ended (see CONTROL_PROGRAM). */
  onExitSignal(): void;
}

/**
 * The one persistent control-mode client commands go through, attached to
 * the hidden control session (which it creates, so the server runs), and
 * reconnected with a growing delay when it ends, so that exits keep being
 * reported: it also hears the `pane-died` hook's signal. Its gate admits
 * every control client of ours (see ControlGate).
 */
export class CommandChannel {
  private client: ControlClient | undefined;
  private connecting: Promise<ControlClient> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs = FIRST_RECONNECT_MS;
  private closed = false;
  readonly gate = new ControlGate(() => this.settle());

  constructor(private readonly options: CommandChannelOptions) {}

  get alive(): boolean {
    return this.client?.alive ?? false;
  }

  /** The channel's client, (re)connected if needed. */
  get(): Promise<ControlClient> {
    if (this.closed) return Promise.reject(new TmuxError('tmux_disconnected', 'the tmux connection is closed'));
    if (this.client?.alive) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async command(command: string): Promise<string[]> {
    return (await this.get()).command(command);
  }

  /** A round trip through the channel's client, if it is connected: the server has read everything sent to it before. */
  private async settle(): Promise<void> {
    if (this.client?.alive) await this.client.command(`display-message -p ''`).catch(() => undefined);
  }

  /** Kills the tmux server through the channel, which is closed from then on. */
  async killServer(): Promise<void> {
    const client = await this.get();
    this.closed = true;
    // The server exits before it can answer.
    await client.command('kill-server').catch(() => undefined);
  }

  /** Closes the channel for good (no reconnect); resolves once its client has exited. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (client?.alive) {
      await new Promise<void>((resolve) => {
        client.onExit = () => resolve();
        client.close();
      });
    }
  }

  private async connect(): Promise<ControlClient> {
    const client = await this.reachServer();
    try {
      await Promise.all([this.options.setUp(client), this.endOrphanedClients(client), this.runControlProgram(client)]);
    } catch (error) {
      client.kill('setup failed');
      throw error;
    }
    if (this.closed) {
      client.close();
      throw new TmuxError('tmux_disconnected', 'the tmux connection is closed');
    }
    this.client = client;
    this.backoffMs = FIRST_RECONNECT_MS;
    this.options.onConnected();
    return client;
  }

  /**
   * A command client attached to the hidden control session, made first (and
   * the server with it) if need be. A server killed a moment ago can still take
   * a connection, then drop it ("server exited unexpectedly"); once it is gone
   * its socket refuses, and the next try starts a new server.
   */
  private async reachServer(): Promise<ControlClient> {
    for (let attempt = 1; ; attempt++) {
      try {
        const client = (await this.attach()) ?? (await this.createControlSession(), await this.attach());
        if (!client) throw new TmuxError('tmux_disconnected', 'the hidden control session went away as it was made');
        return client;
      } catch (error) {
        const lost = error instanceof TmuxError && error.code === 'tmux_disconnected' && /server exited unexpectedly/.test(error.message);
        if (!lost || this.closed || attempt === LOST_SERVER_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, LOST_SERVER_WAIT_MS * attempt));
      }
    }
  }

  /**
   * A command client attached to the hidden control session; undefined if
   * there is none to attach to. Attaching is tried first when the server's
   * socket is there: after a daemon restart the session is, and making it
   * first cost every start a tmux process more.
   */
  private async attach(): Promise<ControlClient | undefined> {
    const { tmuxBin, socketPath, env, log, commandTimeoutMs } = this.options;
    if (!existsSync(socketPath)) return undefined;
    const client = new ControlClient({ tmuxBin, socketPath, env, session: CONTROL_SESSION, flags: ['ignore-size'], log, commandTimeoutMs, gate: this.gate });
    client.onOutput = () => this.options.onExitSignal();
    client.onNotification = (name) => this.options.onNotification(client, name);
    client.onExit = (reason) => this.onExit(client, reason);
    try {
      await client.ready;
      return client;
    } catch (error) {
      // A server gone with its socket left behind, or one without the session, starts no such client.
      if (error instanceof TmuxError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  /** The hidden session keeps the server alive and gives the channel something to attach to. */
  private async createControlSession(): Promise<void> {
    try {
      // This command starts the server when none runs: the server gets its environment.
      await this.gate.change(() => this.exec(['new-session', '-d', '-s', CONTROL_SESSION, '-x', '80', '-y', '24', '--', ...CONTROL_PROGRAM], SERVER_MALLOC_ENV));
    } catch (error) {
      if (!(error instanceof TmuxError && error.code === 'duplicate_session')) throw error;
    }
  }

  /**
   * Starts CONTROL_PROGRAM in the hidden session where it does not run: a
   * session an older daemon made runs another (which reads nothing), or
   * someone attached ended it (a Ctrl-C).
   */
  async runControlProgram(client: ControlClient): Promise<void> {
    const target = quote(`=${CONTROL_SESSION}:`);
    const [state] = await client.command(`display-message -p -t ${target} '#{pane_dead} #{pane_start_command}'`);
    if (state === `0 ${CONTROL_PROGRAM.join(' ')}`) return;
    await client.command(`respawn-pane -k -t ${target} ${CONTROL_PROGRAM.map(quoteWord).join(' ')}`);
  }

  /**
   * Ends the control clients that an earlier daemon of this home, killed with
   * SIGKILL, left attached: one in a command that waits (an older daemon's
   * exit waiter sat in `wait-for`) never reads the end of its stdin, and a
   * server with such a client outlives kill-server. Ours are known by their
   * command line; one whose parent is not this daemon is an orphan (one
   * daemon per home, by its lock).
   */
  private async endOrphanedClients(client: ControlClient): Promise<void> {
    if (!HAS_PROC) return;
    for (const line of await client.command(`list-clients -F '#{client_pid} #{client_control_mode}'`)) {
      const [pid, control] = line.split(' ').map(Number);
      if (!pid || control !== 1) continue;
      try {
        const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
        const ours = argv.includes(this.options.socketPath) && argv.includes('/dev/null') && argv.includes('-C');
        if (!ours || (await parentPid(pid)) === process.pid) continue;
        this.options.log.info({ pid }, 'ending a tmux control client left by an earlier daemon');
        process.kill(pid, 'SIGTERM');
      } catch {
        // It has gone meanwhile.
      }
    }
  }

  private onExit(client: ControlClient, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.closed) return;
    this.options.log.warn({ reason }, 'the tmux control client ended; reconnecting');
    this.scheduleReconnect();
  }

  /** Reconnects in the background so that exits keep being reported. */
  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.closed) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_RECONNECT_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed || this.client?.alive) return;
      this.get().catch((error: Error) => {
        this.options.log.warn({ err: error }, 'reconnecting to tmux failed');
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Runs a one-shot tmux client: argv only, no shell. */
  private exec(args: readonly string[], extraEnv: NodeJS.ProcessEnv): Promise<string> {
    const { tmuxBin, socketPath, env, commandTimeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      execFile(tmuxBin, ['-S', socketPath, '-f', '/dev/null', ...args], { env: { ...env, ...extraEnv }, timeout: commandTimeoutMs, maxBuffer: 1 << 20, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new TmuxError('tmux_unavailable', `cannot run ${tmuxBin}: not found`));
        reject(TmuxError.fromTmux(stderr.trim() || stdout.trim() || error.message));
      });
    });
  }
}
