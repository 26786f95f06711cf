import type { Logger } from '@codepiper/sdk';
import { ControlClient, type ControlClientOptions } from './control.js';
import { quote } from './protocol.js';

export interface WatchOptions {
  /** Bytes as the program printed them (after the snapshot, if any). */
  onData(data: Buffer): void;
  /** The watch ended without being unsubscribed: session gone, server gone, error. */
  onEnd?(reason: string): void;
  /** Send the current screen first, as terminal escapes (default true). */
  snapshot?: boolean;
  /** Output flows from now on (after the snapshot, if any); with the pane's size. */
  onReady?(size: { cols: number; rows: number }): void;
}

interface Subscriber {
  readonly options: WatchOptions;
  /** Set once this subscriber's snapshot has been taken: from then on, output is delivered. */
  paneId: string | undefined;
  closed: boolean;
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

/**
 * One read-only control client attached to a session, shared by all of that
 * session's subscribers. Each subscriber gets a snapshot taken on the shared
 * client: output tmux queued before the snapshot command is already in the
 * snapshot and is skipped; everything after it is delivered, so nothing is
 * lost or repeated.
 */
export class SessionWatch {
  private readonly subscribers = new Set<Subscriber>();
  private readonly client: ControlClient;
  private ended = false;

  constructor(
    readonly session: string,
    base: Omit<ControlClientOptions, 'session' | 'flags'>,
    private readonly log: Logger,
    /** Called once when this watch is over (last unsubscribe or client exit). */
    private readonly onClosed: (watch: SessionWatch) => void,
  ) {
    this.client = new ControlClient({ ...base, session, flags: ['ignore-size', 'read-only'] });
    this.client.onOutput = (paneId, data) => this.deliver(paneId, data);
    this.client.onExit = (reason) => this.end(reason);
  }

  get size(): number {
    return this.subscribers.size;
  }

  get pid(): number | undefined {
    return this.client.pid;
  }

  subscribe(options: WatchOptions): () => void {
    const subscriber: Subscriber = { options, paneId: undefined, closed: false };
    this.subscribers.add(subscriber);
    const target = quote(`=${this.session}:`);
    const commands = [`display-message -p -t ${target} ${quote(INFO_FORMAT)}`];
    if (options.snapshot !== false) commands.push(`capture-pane -p -e -t ${target}`);
    this.client
      .commands(commands, {
        onDone: ([info, screen]) => {
          if (subscriber.closed) return;
          const fields = (info?.[0] ?? '').split(' ');
          subscriber.paneId = fields[0];
          if (screen) this.call(subscriber, () => subscriber.options.onData(renderSnapshot(fields, screen)));
          this.call(subscriber, () => subscriber.options.onReady?.({ cols: Number(fields[3]), rows: Number(fields[4]) }));
        },
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

  /** Ends the watch for everyone (daemon closing). */
  close(reason: string): void {
    this.end(reason);
  }

  private deliver(paneId: string, data: Buffer): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.paneId === paneId) this.call(subscriber, () => subscriber.options.onData(data));
    }
  }

  private drop(subscriber: Subscriber): void {
    subscriber.closed = true;
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0 && !this.ended) {
      this.ended = true;
      this.client.close();
      this.onClosed(this);
    }
  }

  private end(reason: string): void {
    if (this.ended) {
      if (this.client.alive) this.client.close();
      return;
    }
    this.ended = true;
    this.client.close();
    const subscribers = [...this.subscribers];
    this.subscribers.clear();
    for (const subscriber of subscribers) {
      subscriber.closed = true;
      this.call(subscriber, () => subscriber.options.onEnd?.(reason));
    }
    this.onClosed(this);
  }

  private call(subscriber: Subscriber, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log.error({ err: error, session: this.session }, 'a terminal watcher failed');
    }
  }
}

/**
 * The screen as escapes a fresh terminal can replay: alternate screen, clear,
 * the captured rows (with colours), then scroll region, cursor-key mode,
 * cursor visibility and position. Other modes (mouse, bracketed paste, the
 * current pen colour) are not in tmux's formats and are not restored.
 */
export function renderSnapshot(fields: readonly string[], rows: readonly string[]): Buffer {
  const num = (i: number): number => Number.parseInt(fields[i] ?? '', 10) || 0;
  const [cx, cy, height] = [num(1), num(2), num(4)];
  const flag = (i: number): boolean => fields[i] === '1';
  const upper = num(8);
  const lower = fields[9] === undefined || fields[9] === '' ? height - 1 : num(9);
  let out = '\x1b[0m' + (flag(5) ? '\x1b[?1049h' : '\x1b[?1049l') + '\x1b[H\x1b[2J';
  out += rows.join('\r\n');
  out += '\x1b[0m';
  out += upper > 0 || (height > 0 && lower < height - 1) ? `\x1b[${upper + 1};${lower + 1}r` : '\x1b[r';
  out += flag(7) ? '\x1b[?1h' : '\x1b[?1l';
  out += flag(6) ? '\x1b[?25h' : '\x1b[?25l';
  out += `\x1b[${cy + 1};${cx + 1}H`;
  return Buffer.from(out, 'utf8');
}
