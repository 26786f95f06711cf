import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Logger } from '@codepiper/sdk';
import type { ControlGate } from './control-gate.js';
import { TmuxError } from './errors.js';
import { decodeOctal, LineSplitter } from './protocol.js';

export interface ControlClientOptions {
  tmuxBin: string;
  socketPath: string;
  env: NodeJS.ProcessEnv;
  /** The session to attach to (exact name; validated by the caller). */
  session: string;
  /** Client flags for `attach-session -f` (`ignore-size`, `read-only`, `no-output`). */
  flags: readonly string[];
  log: Logger;
  /** A command unanswered for this long kills the client (all pending commands fail). */
  commandTimeoutMs: number;
  /** When the client may connect, and leave (see ControlGate). */
  gate: ControlGate;
}

export interface CommandHooks {
  /**
   * Called synchronously when the last reply block ends, before any later
   * line of the stream is handled: what follows in the stream happened after
   * the commands ran.
   */
  onDone?(replies: string[][]): void;
}

interface Pending {
  line: string;
  /** Reply blocks still expected (one per command in the line). */
  remaining: number;
  replies: string[][];
  hooks: CommandHooks | undefined;
  resolve(replies: string[][]): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

interface Block {
  /** `time number flags` of the `%begin` line: `%end`/`%error` must repeat it. */
  key: string;
  lines: string[];
  pending: Pending | undefined;
}

const OUTPUT_PREFIX = Buffer.from('%output ');
const SPACE = 0x20;

/**
 * A tmux control-mode client (`tmux -C attach-session`): a command channel
 * whose replies come back in order as `%begin`/`%end` blocks, plus a stream of
 * notifications (`%output`, `%exit`, `%sessions-changed`...).
 *
 * Commands are only ever written once tmux has attached the client (the
 * `%session-changed` line): earlier ones would fail with "no current client".
 * The process starts, and ends, when the gate lets it.
 */
export class ControlClient {
  /** Pane output, decoded to the exact bytes the program wrote. */
  onOutput: ((paneId: string, data: Buffer) => void) | undefined;
  /** Every other notification: `name` without the `%`, `args` the rest of the line. */
  onNotification: ((name: string, args: string) => void) | undefined;
  /** Called once when the client has ended, with why. */
  onExit: ((reason: string) => void) | undefined;

  readonly ready: Promise<void>;
  /** Settles once the client has ended (or, closed before its turn to connect, will never start). */
  readonly ended: Promise<void>;
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly sent: Pending[] = [];
  private unsent: Pending[] = [];
  private block: Block | undefined;
  private isReady = false;
  private isEnded = false;
  private markEnded!: () => void;
  private exitReason = '';
  private stderr = '';
  private lastError = '';
  private markReady!: () => void;
  private failReady!: (error: Error) => void;

  constructor(private readonly options: ControlClientOptions) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    // Nobody has to await `ready`; failures also reach the pending commands.
    this.ready.catch(() => undefined);
    this.ended = new Promise<void>((resolve) => (this.markEnded = resolve));
    options.gate.connect(() => this.start());
  }

  get alive(): boolean {
    return !this.isEnded;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private start(): Promise<void> {
    if (this.isEnded) return this.ready.catch(() => undefined);
    const { options } = this;
    const args = ['-S', options.socketPath, '-f', '/dev/null', '-C', 'attach-session', '-t', `=${options.session}`];
    if (options.flags.length > 0) args.push('-f', options.flags.join(','));
    const child = spawn(options.tmuxBin, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    const splitter = new LineSplitter((line) => this.handleLine(line));
    child.stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.stdin.on('error', () => undefined); // EPIPE when tmux is gone; 'exit' reports it
    child.on('error', (error) => this.finish(`cannot run ${options.tmuxBin}: ${error.message}`));
    child.on('exit', (code, signal) => {
      // Lines still buffered in the pipe are read before 'close'; finish there
      // unless the stream is already closed.
      this.exitReason ||= signal ? `tmux control client killed by ${signal}` : `tmux control client exited (${code ?? '?'})`;
    });
    child.on('close', () => this.finish(this.exitReason || 'tmux control client closed'));
    return this.ready;
  }

  /** Runs one command; resolves with its output lines, rejects with tmux's error text. */
  async command(command: string, hooks?: CommandHooks): Promise<string[]> {
    const [reply] = await this.commands([command], hooks);
    return reply ?? [];
  }

  /**
   * Runs commands as one command list (`a ; b`): tmux executes them back to
   * back, with no pane output processed in between. An error stops the list
   * (tmux skips the rest) and rejects.
   */
  commands(commands: readonly string[], hooks?: CommandHooks): Promise<string[][]> {
    for (const command of commands) {
      if (!command.trim() || /[\n\r]/.test(command)) throw new Error(`invalid tmux control command ${JSON.stringify(command)}`);
    }
    return new Promise<string[][]>((resolve, reject) => {
      const pending: Pending = { line: commands.join(' ; '), remaining: commands.length, replies: [], hooks, resolve, reject };
      if (this.isEnded) {
        reject(this.disconnected());
        return;
      }
      if (this.isReady) this.write([pending]);
      else this.unsent.push(pending);
    });
  }

  /** Ends the client gracefully (EOF on its stdin), killing it if it lingers. */
  close(graceMs = 1000): void {
    this.leave('closed before it connected', (child) => {
      child.stdin.end();
      const timer = setTimeout(() => {
        if (!this.isEnded) child.kill('SIGTERM');
      }, graceMs);
      timer.unref();
    });
  }

  /** Ends the client at once. */
  kill(reason: string): void {
    if (!this.isEnded) this.exitReason = reason;
    this.leave(reason, (child) => child.kill('SIGTERM'));
  }

  /** Ends the client when the gate lets it leave; one whose turn to connect has not come never starts. */
  private leave(reason: string, end: (child: ChildProcessWithoutNullStreams) => void): void {
    if (this.isEnded) return;
    const child = this.child;
    if (!child) return this.finish(reason);
    void this.options.gate.leave(() => end(child), this.ended);
  }

  private write(batch: Pending[]): void {
    let text = '';
    for (const pending of batch) {
      this.sent.push(pending);
      text += `${pending.line}\n`;
      pending.timer = setTimeout(() => {
        this.options.log.warn({ command: pending.line.slice(0, 200) }, 'tmux did not answer in time; restarting its control client');
        this.kill(`tmux did not answer within ${this.options.commandTimeoutMs} ms`);
      }, this.options.commandTimeoutMs);
      pending.timer.unref();
    }
    this.child?.stdin.write(text);
  }

  private handleLine(line: Buffer): void {
    const block = this.block;
    if (block) {
      if (line[0] === 0x25 /* % */) {
        const text = line.toString('utf8');
        if (text === `%end ${block.key}`) return this.endBlock(block, false);
        if (text === `%error ${block.key}`) return this.endBlock(block, true);
        block.lines.push(text);
      } else {
        block.lines.push(line.toString('utf8'));
      }
      return;
    }
    if (line.length > OUTPUT_PREFIX.length && line.compare(OUTPUT_PREFIX, 0, OUTPUT_PREFIX.length, 0, OUTPUT_PREFIX.length) === 0) {
      const space = line.indexOf(SPACE, OUTPUT_PREFIX.length);
      if (space === -1) return;
      const pane = line.toString('latin1', OUTPUT_PREFIX.length, space);
      this.onOutput?.(pane, decodeOctal(line.subarray(space + 1)));
      return;
    }
    const text = line.toString('utf8');
    if (!text.startsWith('%')) return;
    const space = text.indexOf(' ');
    const name = text.slice(1, space === -1 ? undefined : space);
    const args = space === -1 ? '' : text.slice(space + 1);
    switch (name) {
      case 'begin': {
        // Only blocks flagged 1 answer this client's commands; others (the
        // attach itself) are read and dropped.
        const ours = args.split(' ')[2] === '1';
        this.block = { key: args, lines: [], pending: ours ? this.sent[0] : undefined };
        if (ours && !this.sent[0]) this.options.log.warn({ line: text }, 'tmux sent a reply nobody asked for');
        return;
      }
      case 'session-changed':
        if (!this.isReady) {
          this.isReady = true;
          this.markReady();
          const batch = this.unsent;
          this.unsent = [];
          if (batch.length > 0) this.write(batch);
        }
        break;
      case 'exit':
        this.exitReason = args ? `tmux control client exited: ${args}` : 'tmux control client exited';
        break;
    }
    this.onNotification?.(name, args);
  }

  private endBlock(block: Block, failed: boolean): void {
    this.block = undefined;
    const pending = block.pending;
    if (!pending) {
      if (failed) this.lastError = block.lines.join('\n');
      return;
    }
    if (failed) {
      this.complete(pending);
      pending.reject(TmuxError.fromTmux(block.lines.join('\n')));
      return;
    }
    pending.replies.push(block.lines);
    if (--pending.remaining > 0) return;
    this.complete(pending);
    try {
      pending.hooks?.onDone?.(pending.replies);
    } catch (error) {
      this.options.log.error({ err: error }, 'a tmux reply handler failed');
    }
    pending.resolve(pending.replies);
  }

  private complete(pending: Pending): void {
    clearTimeout(pending.timer);
    if (this.sent[0] === pending) this.sent.shift();
  }

  /** Why the client ended: `not_found` when tmux refused to attach it to a session that is not there, else a lost connection. */
  private disconnected(): TmuxError {
    const detail = [this.exitReason, this.lastError, this.stderr.trim()].filter(Boolean).join(': ');
    const sessionMissing = !this.isReady && this.lastError !== '' && TmuxError.fromTmux(this.lastError).code === 'not_found';
    return new TmuxError(sessionMissing ? 'not_found' : 'tmux_disconnected', detail || 'tmux control client ended');
  }

  private finish(reason: string): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.markEnded();
    this.exitReason ||= reason;
    const error = this.disconnected();
    this.failReady(error);
    for (const pending of [...this.sent, ...this.unsent]) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.sent.length = 0;
    this.unsent = [];
    this.onExit?.(error.message);
  }
}
