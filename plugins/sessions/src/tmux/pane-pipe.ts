import { execFile } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { promisify } from 'node:util';
import { quoteWord } from './protocol.js';

/** More than this held for the control stream to catch up, and the pipe gives up (the watch goes on without it). */
const MAX_AHEAD_BYTES = 16 * 1024 * 1024;

/**
 * A second copy of a pane's output, through `pipe-pane` into a FIFO.
 *
 * Control mode drops what it still has queued for a pane once the pane's
 * program exits (tmux frees that data with the pty), so a watch fed by it
 * can miss a program's last output. The pipe carries every byte: tmux
 * writes to it as it reads the pty, a dead pane keeps its pipe, and the
 * FIFO ends (EOF) once tmux has closed the pipe and the `cat` between them
 * has passed everything on. A watch takes from it only what control mode
 * did not deliver, so it keeps just the bytes the control stream has not
 * reached yet.
 */
export class PanePipe {
  private readonly chunks: Buffer[] = [];
  /** Offset, in the pipe's stream, of the first byte of `chunks`. */
  private start = 0;
  /** Bytes the control stream has delivered: the pipe keeps only what comes after. */
  private delivered = 0;
  /** Bytes in `chunks`. */
  private held = 0;
  private overflowed = false;
  private readonly ended: Promise<void>;

  private constructor(
    readonly fifo: string,
    private readonly socket: net.Socket,
  ) {
    socket.on('data', (data: Buffer) => this.add(data));
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    // A read error ends the copy like EOF does; the watch goes on without it.
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

  /** The control stream has now delivered `bytes` in all since the pipe started. */
  deliveredUpTo(bytes: number): void {
    this.delivered = bytes;
    this.trim();
  }

  /**
   * Waits (at most `timeoutMs`) for the pipe to end, then returns what it
   * carried beyond what the control stream delivered.
   */
  async rest(timeoutMs: number): Promise<Buffer> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ended, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.trim();
    return Buffer.concat(this.chunks).subarray(Math.max(0, this.delivered - this.start));
  }

  async close(): Promise<void> {
    this.socket.destroy();
    await rm(this.fifo, { force: true });
  }

  private add(data: Buffer): void {
    if (this.overflowed) return;
    this.chunks.push(data);
    this.held += data.length;
    this.trim();
    if (this.held > MAX_AHEAD_BYTES) {
      this.overflowed = true;
      this.chunks.length = 0;
      this.socket.destroy();
    }
  }

  /** Drops whole chunks the control stream has already delivered. */
  private trim(): void {
    while (this.chunks.length > 0 && this.start + this.chunks[0]!.length <= this.delivered) {
      const size = this.chunks.shift()!.length;
      this.start += size;
      this.held -= size;
    }
  }
}
