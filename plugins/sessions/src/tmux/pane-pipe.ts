import { execFile } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { promisify } from 'node:util';
import { quoteWord } from './protocol.js';

/** A read this large means a program is printing in bulk, not a person typing. */
export const BULK_READ_BYTES = 8192;
/** How long the pipe then fills before the next read (at most its 64 KiB). */
const BULK_GATHER_MS = 1;

/**
 * A pane's output, every byte as the program wrote it, through `pipe-pane`
 * into a FIFO. This is the live stream of a watch: tmux writes to the pipe as
 * it reads the pty, without the octal escaping of control mode (which carried
 * about 60 % of the pipe's rate), and a dead pane keeps its pipe, so the
 * program's last output is there too. The FIFO ends (EOF) once tmux has
 * closed the pipe and the `cat` between them has passed everything on.
 */
export class PanePipe {
  /** What arrived before anyone read: the pipe starts before its watch is ready for it. */
  private early: Buffer[] | undefined = [];
  private reader: ((data: Buffer) => void) | undefined;
  private lastDataAt = 0;
  /** Paused by pause(): the watch's screen copy is behind. */
  private held = false;
  /** Paused for BULK_GATHER_MS after a bulk read. */
  private gathering: NodeJS.Timeout | undefined;
  /** Settles when the FIFO has ended (or failed). */
  readonly ended: Promise<void>;

  private constructor(
    readonly fifo: string,
    private readonly socket: net.Socket,
  ) {
    socket.on('data', (data: Buffer) => {
      this.lastDataAt = performance.now();
      if (this.reader) this.reader(data);
      else this.early?.push(data);
      // Read as fast as it comes, a stream arrives in pieces of a few KiB, each a read, a WebSocket
      // frame and a write of its own: letting the pipe fill a moment takes a fraction of the work.
      if (data.length >= BULK_READ_BYTES && !this.gathering) {
        socket.pause();
        this.gathering = setTimeout(() => {
          this.gathering = undefined;
          if (!this.held) socket.resume();
        }, BULK_GATHER_MS);
      }
    });
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    // A read error ends the stream like EOF does; the watch then ends its viewers.
    socket.on('error', () => socket.destroy());
  }

  /** Makes the FIFO (mode 0600) at `fifo` and opens it for reading. */
  static async open(fifo: string): Promise<PanePipe> {
    await promisify(execFile)('mkfifo', ['-m', '600', fifo]);
    // Non-blocking: no writer is there yet. A FIFO nobody has written to yet does not read as EOF.
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    return new PanePipe(fifo, new net.Socket({ fd, readable: true, writable: false }));
  }

  /** The tmux command that feeds this pipe from `target` (the path holds no quote or `#`: the caller makes it). */
  command(target: string): string {
    return `pipe-pane -O -t ${target} ${quoteWord(`exec cat > '${this.fifo}'`)}`;
  }

  /** Hands every byte, those that came before this call first, to `reader`. */
  read(reader: (data: Buffer) => void): void {
    const early = this.early ?? [];
    this.early = undefined;
    this.reader = reader;
    for (const data of early) reader(data);
  }

  /** Stops reading for a while: the FIFO fills, then tmux holds the pane's output for the pipe. */
  pause(): void {
    this.held = true;
    this.socket.pause();
  }

  resume(): void {
    this.held = false;
    if (!this.gathering) this.socket.resume();
  }

  /**
   * Resolves once nothing has come through the pipe for `quietMs` since this
   * call or its last byte (what the program printed before has then
   * arrived), or after `timeoutMs`.
   */
  async quiet(quietMs: number, timeoutMs: number): Promise<void> {
    const start = performance.now();
    const deadline = start + timeoutMs;
    for (;;) {
      const now = performance.now();
      const wait = Math.min(Math.max(this.lastDataAt, start) + quietMs - now, deadline - now);
      if (wait <= 0 || this.socket.destroyed) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * Removes the FIFO, then stops reading: in that order, a `cat` that tmux
   * starts late finds either the FIFO with its reader or no FIFO (and makes a
   * file). The other way round, one opening it between the two would wait
   * for a reader forever.
   */
  async close(): Promise<void> {
    clearTimeout(this.gathering);
    await rm(this.fifo, { force: true }).finally(() => this.socket.destroy());
  }
}
