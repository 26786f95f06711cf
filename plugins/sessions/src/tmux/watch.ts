import { raceTimeout, type Logger } from '@codepiper/sdk';
import { ControlClient, type ControlClientOptions } from './control.js';
import type { PanePipe } from './pane-pipe.js';
import { PaneScreen, type FirstFrame } from './pane-screen.js';
import { quote } from './protocol.js';

/** How long an ended watch waits for the pane's pipe to hand over the program's last output. */
const PIPE_END_TIMEOUT_MS = 5000;
/** How much of a session's scrollback comes before its screen in a terminal's first frame (xterm keeps it, for touch and wheel). */
const SNAPSHOT_SCROLLBACK_LINES = 2000;
/** A pipe quiet this long has passed on what the program printed before (see drain). */
const DRAIN_QUIET_MS = 30;
/** A program that never stops printing is never quiet: a drain waits this long at most for the pipe. */
const DRAIN_QUIET_LIMIT_MS = 500;

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
  snapshot?: FirstFrame | false;
  /** Output flows from now on (after the snapshot, if any); with the pane's size. */
  onReady?(size: { cols: number; rows: number }): void;
}

interface Subscriber {
  readonly options: WatchOptions;
  /** Its first frame has gone out: output is delivered as it comes. */
  live: boolean;
  /** Output that came while its first frame was being made: it follows the frame. */
  held: Buffer[] | undefined;
  closed: boolean;
}

/** The pane's pipe, and the copy of the screen kept from it. */
interface Feed {
  pipe: PanePipe;
  screen: PaneScreen;
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
].join(' ');

/** `%layout-change`'s window layout: the checksum, then the window's size (the pane's: a session has one). */
const LAYOUT_SIZE = /^[0-9a-f]+,(\d+)x(\d+),/;

/**
 * A session's output for all of its viewers: the pane's pipe (see PanePipe)
 * feeds every subscriber and a copy of the screen (see PaneScreen). A
 * subscriber's first frame comes from that copy, as of the last byte given
 * to it, and the stream goes on from the next byte: nothing is lost or
 * repeated. One control client per watched session runs the commands
 * (`no-output`: tmux does not also send it the output) and ends the watch
 * when the session goes.
 */
export class SessionWatch {
  private readonly subscribers = new Set<Subscriber>();
  private readonly client: ControlClient;
  private readonly target: string;
  /** Settles once the pipe runs and the copy of the screen shows what came before it. */
  private readonly feed: Promise<Feed>;
  private screen: PaneScreen | undefined;
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
    this.client = new ControlClient({ ...base, session, flags: ['ignore-size', 'read-only', 'no-output'] });
    this.client.onNotification = (name, args) => {
      if (name === 'layout-change') this.layoutChanged(args);
    };
    this.client.onExit = (reason) => this.end(reason);
    this.feed = this.startFeed(openPipe);
    // Subscribers hear of a failure through their own join.
    this.feed.catch(() => undefined);
  }

  get size(): number {
    return this.subscribers.size;
  }

  get pid(): number | undefined {
    return this.client.pid;
  }

  /** Settles once the watch's control client has ended. */
  get clientEnded(): Promise<void> {
    return this.client.ended;
  }

  subscribe(options: WatchOptions): () => void {
    const subscriber: Subscriber = { options, live: false, held: undefined, closed: false };
    this.subscribers.add(subscriber);
    this.join(subscriber).catch((error: Error) => {
      if (subscriber.closed || this.ended) return;
      this.drop(subscriber);
      this.call(subscriber, () => subscriber.options.onEnd?.(error.message));
    });
    return () => {
      if (!subscriber.closed) this.drop(subscriber);
    };
  }

  /**
   * Resolves once the pipe has been quiet for a moment: what the program
   * printed before this call has reached the watchers. At most `timeoutMs`
   * for the watch to start, then DRAIN_QUIET_LIMIT_MS.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.ended) return;
    const feed = await raceTimeout(this.feed.catch(() => undefined), timeoutMs);
    await feed?.pipe.quiet(DRAIN_QUIET_MS, DRAIN_QUIET_LIMIT_MS);
  }

  /** Ends the watch for everyone (daemon closing; the program goes on). */
  close(reason: string): void {
    this.end(reason, false);
  }

  /** Starts the pipe in the command line that captures the screen it seeds the copy with. */
  private async startFeed(openPipe: () => Promise<PanePipe>): Promise<Feed> {
    const pipe = await openPipe();
    try {
      const [info, , rows] = await this.client.commands([
        `display-message -p -t ${this.target} ${quote(INFO_FORMAT)}`,
        // In the same command line as the capture: the pipe starts with the byte that follows it.
        pipe.command(this.target),
        `capture-pane -p -e -S -${SNAPSHOT_SCROLLBACK_LINES} -t ${this.target}`,
      ]);
      const fields = (info?.[0] ?? '').split(' ');
      const size = { cols: numberAt(fields, 3), rows: numberAt(fields, 4) };
      const screen = await PaneScreen.create(size, SNAPSHOT_SCROLLBACK_LINES, renderSnapshot(fields, rows ?? []), (full) => (full ? pipe.pause() : pipe.resume()));
      this.screen = screen;
      pipe.read((data) => this.deliver(screen, data));
      void pipe.ended.then(() => this.end('the session’s output ended'));
      return { pipe, screen };
    } catch (error) {
      await pipe.close().catch(() => undefined);
      throw error;
    }
  }

  private async join(subscriber: Subscriber): Promise<void> {
    const { screen } = await this.feed;
    // The pane's size now: a viewer may have resized it just before joining.
    const [size] = await this.client.command(`display-message -p -t ${this.target} '#{pane_width} #{pane_height}'`);
    if (subscriber.closed) return;
    const [cols = 0, rows = 0] = (size ?? '').split(' ').map(Number);
    screen.resize(cols, rows);
    const first = subscriber.options.snapshot ?? true;
    if (first !== false) {
      subscriber.held = [];
      const frame = await screen.frame(first);
      if (subscriber.closed) return;
      this.call(subscriber, () => subscriber.options.onData(frame));
      for (const data of subscriber.held) this.call(subscriber, () => subscriber.options.onData(data));
      subscriber.held = undefined;
    }
    subscriber.live = true;
    this.call(subscriber, () => subscriber.options.onReady?.(screen.size));
  }

  private deliver(screen: PaneScreen, data: Buffer): void {
    screen.write(data);
    for (const subscriber of this.subscribers) {
      if (subscriber.live) this.call(subscriber, () => subscriber.options.onData(data));
      else subscriber.held?.push(data);
    }
  }

  private layoutChanged(args: string): void {
    const size = LAYOUT_SIZE.exec(args.split(' ')[1] ?? '');
    if (size) this.screen?.resize(Number(size[1]), Number(size[2]));
  }

  private drop(subscriber: Subscriber): void {
    subscriber.closed = true;
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0 && !this.ended) {
      this.ended = true;
      this.client.command(`pipe-pane -t ${this.target}`).catch(() => undefined);
      this.client.close();
      this.onClosed(this);
      void this.closeFeed(false);
    }
  }

  /**
   * Ends every subscriber; first, unless `handOver` is false (the daemon is
   * closing and the program goes on), lets the pipe pass on the program's
   * last output.
   */
  private end(reason: string, handOver = true): void {
    if (this.ended) {
      if (this.client.alive) this.client.close();
      return;
    }
    this.ended = true;
    this.client.close();
    this.onClosed(this);
    void this.closeFeed(handOver).then(() => {
      const subscribers = [...this.subscribers];
      this.subscribers.clear();
      for (const subscriber of subscribers) {
        subscriber.closed = true;
        this.call(subscriber, () => subscriber.options.onEnd?.(reason));
      }
    });
  }

  /** Closes the pipe and the copy; with `handOver`, first waits for the pipe's end. */
  private async closeFeed(handOver: boolean): Promise<void> {
    const feed = await this.feed.catch(() => undefined);
    if (!feed) return;
    if (handOver) await raceTimeout(feed.pipe.ended, PIPE_END_TIMEOUT_MS);
    await feed.pipe.close().catch((error: Error) => this.log.warn({ err: error, session: this.session }, 'could not remove a watch pipe'));
    feed.screen.dispose();
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
