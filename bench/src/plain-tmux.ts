import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, constants, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * The baseline: tmux alone, the way a tool without a daemon would drive it —
 * `send-keys` as a process per keystroke, output read from `pipe-pane`.
 */
export class PlainTmux {
  readonly dir = mkdtempSync('/tmp/cpb-');
  readonly socket = path.join(this.dir, 'tmux.sock');
  private readonly fifo = path.join(this.dir, 'out.fifo');
  private reader: net.Socket | undefined;
  private control: ChildProcess | undefined;

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-f', '/dev/null', '-S', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Starts `argv` in a session and streams its output to `onData`. */
  start(argv: string[], onData: (chunk: Buffer) => void): void {
    this.newSession(argv);
    execFileSync('mkfifo', [this.fifo]);
    // O_RDWR keeps the FIFO open without waiting for a writer.
    this.reader = new net.Socket({ fd: openSync(this.fifo, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
    this.reader.on('data', onData);
    this.tmux('pipe-pane', '-O', '-t', 'bench', `exec cat > '${this.fifo}'`);
  }

  /**
   * Starts `argv` in a session and streams what a control-mode client
   * (`tmux -C attach`) is told of it to `onData`: `%output` lines, the bytes
   * octal-escaped, as CodePiper's own watch reads them.
   */
  startControlled(argv: string[], onData: (chunk: Buffer) => void): void {
    this.newSession(argv);
    this.control = spawn('tmux', ['-f', '/dev/null', '-S', this.socket, '-C', 'attach-session', '-t', 'bench'], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.control.stdout!.on('data', onData);
  }

  private newSession(argv: string[]): void {
    this.tmux('new-session', '-d', '-s', 'bench', '-x', '200', '-y', '50', ...argv);
  }

  sendKeysProcess(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('tmux', ['-S', this.socket, 'send-keys', '-t', 'bench', '-l', text], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', () => resolve());
    });
  }

  dispose(): void {
    this.reader?.destroy();
    this.control?.kill();
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
