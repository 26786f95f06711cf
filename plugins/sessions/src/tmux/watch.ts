import type { Logger } from '@codepiper/sdk';
import { ControlClient, type ControlClientOptions } from './control.js';
import type { PanePipe } from './pane-pipe.js';
import { quote } from './protocol.js';

/** How long an ended watch waits for the pane's pipe to hand over the program's last output. */
const PIPE_END_TIMEOUT_MS = 5000;
/** How much of a session's scrollback comes before its screen in a terminal's first frame (xterm keeps it, for touch and wheel). */
const SNAPSHOT_SCROLLBACK_LINES = 2000;

export interface WatchOptions {
  /** Bytes as the program printed them (after the snapshot, if any). */
  onData(data: Buffer): void;
  /** The watch ended without being unsubscribed: session gone, server gone, error. */
  onEnd?(reason: string): void;
  /**
   * What comes first: the current screen as terminal escapes (true, the
   * default), nothing (false), or the last `lines` lines of output up to the
   * cursor as plain text (`tail -f`).
   */
  snapshot?: boolean | { lines: number };
  /** Output flows from now on (after the snapshot, if any); with the pane's size. */
  onReady?(size: { cols: number; rows: number }): void;
}

interface Subscriber {
  readonly options: WatchOptions;
  /** Set once this subscriber's snapshot has been taken: from then on, output is delivered. */
  paneId: string | undefined;
  /** The program had already exited at the snapshot: it holds all there is, and nothing follows. */
  final: boolean;
  closed: boolean;
}

/** The pane's pipe, and how far the control stream has got since the pipe started. */
interface Tap {
  pipe: PanePipe;
  paneId: string;
  streamed: number;
}

const INFO_FORMAT = [
  '#{pane_id}',
  '#{cursor_x}',
  '#{cursor_y}',
  '#{pane_width}',
  '#{pane_height}',
  '#{alternate_on}',
  '#{cursor_flag}',
  '#{keypad_cursor_flag}',
  '#{scroll_region_upper}',
  '#{scroll_region_lower}',
  '#{pane_dead}',
  '#{history_size}',
].join(' ');

/**
 * One read-only control client attached to a session, shared by all of that
 * session's subscribers. Each subscriber gets a snapshot taken on the shared
 * client: output tmux queued before the snapshot command is already in the
 * snapshot and is skipped; everything after it is delivered, so nothing is
 * lost or repeated. The pane's pipe, started with the first snapshot, hands
 * over what control mode drops when the program exits (see PanePipe).
 */
export class SessionWatch {
  private readonly subscribers = new Set<Subscriber>();
  private readonly client: ControlClient;
  private readonly target: string;
  /** Settles before any subscriber's commands are sent; undefined if no pipe could be made. */
  private readonly pipe: Promise<PanePipe | undefined>;
  private pipeRequested = false;
  private tap: Tap | undefined;
  private ended = false;

  constructor(
    readonly session: string,
    base: Omit<ControlClientOptions, 'session' | 'flags'>,
    private readonly log: Logger,
    openPipe: () => Promise<PanePipe>,
    /** Called once when this watch is over (last unsubscribe or client exit). */
    private readonly onClosed: (watch: SessionWatch) => void,
  ) {
    this.target = quote(`=${session}:`);
    this.client = new ControlClient({ ...base, session, flags: ['ignore-size', 'read-only'] });
    this.client.onOutput = (paneId, data) => this.deliver(paneId, data);
    this.client.onExit = (reason) => this.end(reason);
    this.pipe = openPipe().catch((error: Error) => {
      log.warn({ err: error, session }, 'no pipe for this watch: output a program prints as it exits may be missed');
      return undefined;
    });
  }

  get size(): number {
    return this.subscribers.size;
  }

  get pid(): number | undefined {
    return this.client.pid;
  }

  /** Settles once the watch's control client has connected (or failed to). */
  get connected(): Promise<void> {
    return this.client.ready;
  }

  subscribe(options: WatchOptions): () => void {
    const subscriber: Subscriber = { options, paneId: undefined, final: false, closed: false };
    this.subscribers.add(subscriber);
    const startsPipe = !this.pipeRequested;
    this.pipeRequested = true;
    this.pipe
      .then((pipe) => {
        const commands = [`display-message -p -t ${this.target} ${quote(INFO_FORMAT)}`];
        // In the same command line as the snapshot: the pipe starts with the byte that follows it.
        if (startsPipe && pipe) commands.push(pipe.command(this.target));
        const snapshot = options.snapshot ?? true;
        if (snapshot === true) commands.push(`capture-pane -p -e -S -${SNAPSHOT_SCROLLBACK_LINES} -t ${this.target}`);
        else if (snapshot !== false) commands.push(`capture-pane -p -S -${snapshot.lines} -t ${this.target}`);
        return this.client.commands(commands, {
          onDone: ([info, ...rest]) => {
            const fields = (info?.[0] ?? '').split(' ');
            if (startsPipe && pipe) this.tap = { pipe, paneId: fields[0]!, streamed: 0 };
            if (subscriber.closed) return;
            subscriber.paneId = fields[0];
            subscriber.final = fields[10] === '1';
            const rows = snapshot === false ? undefined : rest.at(-1);
            if (rows) {
              const first = typeof snapshot === 'object' ? renderTail(fields, rows, snapshot.lines) : renderSnapshot(fields, rows);
              this.call(subscriber, () => subscriber.options.onData(first));
            }
            this.call(subscriber, () => subscriber.options.onReady?.({ cols: Number(fields[3]), rows: Number(fields[4]) }));
          },
        });
      })
      .catch((error: Error) => {
        if (subscriber.closed || this.ended) return;
        this.drop(subscriber);
        this.call(subscriber, () => subscriber.options.onEnd?.(error.message));
      });
    return () => {
      if (!subscriber.closed) this.drop(subscriber);
    };
  }

  /**
   * Resolves once this client has received everything tmux queued for it so
   * far (tmux answers a client's commands in order with its output), or
   * after `timeoutMs`.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.ended) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.client.commands(["display-message -p ''"]).then(() => undefined, () => undefined), timeout]);
    clearTimeout(timer);
  }

  /** Ends the watch for everyone (daemon closing; the program goes on). */
  close(reason: string): void {
    this.end(reason, false);
  }

  private deliver(paneId: string, data: Buffer): void {
    if (this.tap?.paneId === paneId) this.tap.pipe.deliveredUpTo((this.tap.streamed += data.length));
    for (const subscriber of this.subscribers) {
      if (subscriber.paneId === paneId) this.call(subscriber, () => subscriber.options.onData(data));
    }
  }

  private drop(subscriber: Subscriber): void {
    subscriber.closed = true;
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0 && !this.ended) {
      this.ended = true;
      if (this.pipeRequested) this.client.command(`pipe-pane -t ${this.target}`).catch(() => undefined);
      this.client.close();
      this.onClosed(this);
      void this.closePipe(false);
    }
  }

  /**
   * Ends every subscriber, after handing them what the pipe carried beyond
   * the control stream (unless `handOver` is false: the daemon is closing
   * and the program goes on).
   */
  private end(reason: string, handOver = true): void {
    if (this.ended) {
      if (this.client.alive) this.client.close();
      return;
    }
    this.ended = true;
    this.client.close();
    const subscribers = [...this.subscribers];
    this.subscribers.clear();
    this.onClosed(this);
    void this.closePipe(handOver).then((rest) => {
      for (const subscriber of subscribers) {
        if (subscriber.closed) continue;
        subscriber.closed = true;
        if (rest.length > 0 && subscriber.paneId !== undefined && !subscriber.final) this.call(subscriber, () => subscriber.options.onData(rest));
        this.call(subscriber, () => subscriber.options.onEnd?.(reason));
      }
    });
  }

  /** Closes the pipe; with `handOver`, first waits for its end and returns what the control stream missed. */
  private async closePipe(handOver: boolean): Promise<Buffer> {
    const pipe = await this.pipe;
    const rest = handOver && this.tap ? await this.tap.pipe.rest(PIPE_END_TIMEOUT_MS) : Buffer.alloc(0);
    await pipe?.close().catch((error: Error) => this.log.warn({ err: error, session: this.session }, 'could not remove a watch pipe'));
    return rest;
  }

  private call(subscriber: Subscriber, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log.error({ err: error, session: this.session }, 'a terminal watcher failed');
    }
  }
}

/** Field `i` of INFO_FORMAT as a whole number (0 when empty). */
const numberAt = (fields: readonly string[], i: number): number => Number.parseInt(fields[i] ?? '', 10) || 0;

/**
 * The last `lines` rows of a capture that starts `lines` rows up in the
 * history, up to the cursor, as plain text: the stream goes on from exactly
 * there (a half-printed line included).
 */
export function renderTail(fields: readonly string[], rows: readonly string[], lines: number): Buffer {
  const num = (i: number): number => numberAt(fields, i);
  const cursorRow = Math.min(lines, num(11)) + num(2);
  const above = rows.slice(Math.max(0, cursorRow - lines), cursorRow);
  // capture-pane drops a row's trailing spaces; the cursor may stand after some.
  const current = (rows[cursorRow] ?? '').padEnd(num(1)).slice(0, num(1));
  return Buffer.from([...above, current].join('\r\n'), 'utf8');
}

/**
 * The screen as escapes a fresh terminal can replay: alternate screen, clear,
 * the captured rows (with colours), then scroll region, cursor-key mode,
 * cursor visibility and position. Other modes (mouse, bracketed paste, the
 * current pen colour) are not in tmux's formats and are not restored.
 */
export function renderSnapshot(fields: readonly string[], rows: readonly string[]): Buffer {
  const num = (i: number): number => numberAt(fields, i);
  const [cx, cy, height] = [num(1), num(2), num(4)];
  const flag = (i: number): boolean => fields[i] === '1';
  const upper = num(8);
  const lower = fields[9] === undefined || fields[9] === '' ? height - 1 : num(9);
  let out = '\x1b[0m' + (flag(5) ? '\x1b[?1049h' : '\x1b[?1049l') + '\x1b[H\x1b[2J';
  // The scrollback lines come first and scroll off the top as the screen's are written below them;
  // an alternate screen (a full-screen program) has none of its own.
  out += (flag(5) ? rows.slice(-height) : rows).join('\r\n');
  out += '\x1b[0m';
  out += upper > 0 || (height > 0 && lower < height - 1) ? `\x1b[${upper + 1};${lower + 1}r` : '\x1b[r';
  out += flag(7) ? '\x1b[?1h' : '\x1b[?1l';
  out += flag(6) ? '\x1b[?25h' : '\x1b[?25l';
  out += `\x1b[${cy + 1};${cx + 1}H`;
  return Buffer.from(out, 'utf8');
}
