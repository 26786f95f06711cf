import { constants as osConstants } from 'node:os';
import type { Logger } from '@codepiper/sdk';
import { CONTROL_SESSION, type TmuxSessionInfo } from './records.js';

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

type Listener<K extends keyof TmuxEvents> = (event: TmuxEvents[K]) => void;

/** How long a dead pane may lack an exit status before it is reported without one. */
const STATUS_GRACE_MS = 3000;
/**
 * While programs run, how often the server is made to reap (see nudgeReaper):
 * a missed SIGCHLD delays an exit by at most this. It is missed for about one
 * exit in five here, so this tick is the tail of the exit-noticed bench; a tick
 * costs tmux a wakeup and a waitpid (~0.2% of a core at this rate).
 */
const REAP_TICK_MS = 20;

const SIGNAL_NAMES = new Map<number, string>(Object.entries(osConstants.signals).map(([name, num]) => [num, name]));

interface Known {
  paneId: string;
  reported: boolean;
  timer?: NodeJS.Timeout;
  last: TmuxSessionInfo;
}

export interface DeathWatchOptions {
  log: Logger;
  /** The private tmux server's pid, once known: the process made to reap. */
  serverPid(): number | undefined;
  /** Lists the sessions again (and so applies the list): after a nudge, a status should be there. */
  requery(): void;
}

/**
 * What is known of each session, compared with each full list of sessions to
 * report a program's death (`pane-died`, once, with its exit status) and a
 * session's loss (`session-gone`); and the means to get a status tmux has
 * not collected yet.
 */
export class DeathWatch {
  private readonly known = new Map<string, Known>();
  private readonly listeners: { [K in keyof TmuxEvents]: Set<Listener<K>> } = { 'pane-died': new Set(), 'session-gone': new Set() };
  private seeded = false;
  private closed = false;
  private lastNudge = 0;
  private nudgeLater: NodeJS.Timeout | undefined;
  private reapTicker: NodeJS.Timeout | undefined;

  constructor(private readonly options: DeathWatchOptions) {}

  /** Listens to `pane-died` / `session-gone`; returns the function that stops listening. */
  on<K extends keyof TmuxEvents>(event: K, listener: Listener<K>): () => void {
    const set = this.listeners[event] as Set<Listener<K>>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Whether any known session's program still runs. */
  anyRunning(): boolean {
    for (const known of this.known.values()) if (!known.last.dead) return true;
    return false;
  }

  /** A program whose SIGCHLD tmux missed fires no hook until the server reaps it: make it reap, cheaply, while any runs. */
  startReaping(): void {
    this.reapTicker ??= setInterval(() => {
      const pid = this.options.serverPid();
      if (pid === undefined || !this.anyRunning()) return;
      try {
        process.kill(pid, 'SIGCHLD');
      } catch {
        // The server is gone: the channel's reconnect says so.
      }
    }, REAP_TICK_MS).unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.reapTicker);
    clearTimeout(this.nudgeLater);
    for (const known of this.known.values()) clearTimeout(known.timer);
  }

  /**
   * Compares a full list of sessions with what was known and reports deaths
   * and losses. Lists arrive through the one control stream in the order tmux
   * made them and are applied in that order (TmuxServer's `listState`), so a
   * later list never describes an earlier moment.
   */
  apply(records: readonly TmuxSessionInfo[]): void {
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
    const pid = this.options.serverPid();
    if (pid === undefined) return;
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
      process.kill(pid, 'SIGCHLD');
    } catch {
      return;
    }
    setTimeout(() => {
      if (!this.closed) this.options.requery();
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
    this.options.log.debug({ event, ...payload }, 'tmux event');
    for (const listener of [...(this.listeners[event] as Set<Listener<K>>)]) {
      try {
        listener(payload);
      } catch (error) {
        this.options.log.error({ err: error, event }, 'a tmux event listener failed');
      }
    }
  }
}
