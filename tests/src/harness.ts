import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import path from 'node:path';
import { ApiClient, daemonEndpoints } from '@codepiper/sdk';
import { waitFor } from '@codepiper/sdk/testing';

/** The repository root (tests run from compiled files in tests/dist). */
export const repoRoot = process.env.CODEPIPER_REPO ?? path.resolve(import.meta.dirname, '..', '..');
export const cliPath = path.join(repoRoot, 'cli', 'bin', 'codepiper.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temporary CODEPIPER_HOME with a short path (Unix socket paths are limited to ~107 bytes). */
export function tempHome(): string {
  return mkdtempSync('/tmp/cpt-');
}

/**
 * Removes a test home. Its daemon's log is kept first where the test runner
 * asks (CODEPIPER_TEST_LOGS), which shows it if the file fails.
 */
function deleteHome(home: string): void {
  const keepIn = process.env.CODEPIPER_TEST_LOGS;
  const log = path.join(home, 'logs', 'daemon.log');
  if (keepIn && existsSync(log)) copyFileSync(log, path.join(keepIn, `daemon-${path.basename(home)}.log`));
  rmSync(home, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
}

/**
 * Stops a daemon the CLI started in `home`, then its tmux server (a daemon
 * stop leaves it running, with the sessions), and removes the home.
 */
export async function removeHome(home: string): Promise<void> {
  await runCli(['daemon', 'stop'], { env: { ...process.env, CODEPIPER_HOME: home } });
  await new TestDaemon(home).endTmux();
  deleteHome(home);
}

export { waitFor };

/** Whether a process (or, given a negative number, a process group) still exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A real daemon in its own home, run as `codepiper daemon` in a child
 * process, talked to over its real Unix socket.
 */
export class TestDaemon {
  readonly client: ApiClient;
  process: ChildProcess | undefined;
  /** A daemon that replaced `process` when it restarted itself: not a child of the harness. */
  private replacementPid: number | undefined;
  output = '';

  constructor(
    readonly home: string = tempHome(),
    readonly extraEnv: Record<string, string> = {},
    /** More arguments for `codepiper daemon` (`--web --port 0`). */
    readonly args: string[] = [],
  ) {
    this.client = new ApiClient({ socketPath: this.socketPath });
  }

  get socketPath(): string {
    return path.join(this.home, 'daemon.sock');
  }

  /** The agents' socket: the agents' hooks only, what their forwarders call. */
  get agentSocketPath(): string {
    return path.join(this.home, 'run', 'agents.sock');
  }

  /** The key the home's secrets are encrypted with. */
  get secretKey(): string {
    return path.join(this.home, 'plugins', 'secrets', 'secret.key');
  }

  get tmuxSocket(): string {
    return path.join(this.home, 'plugins', 'sessions', 'tmux.sock');
  }

  /**
   * The HOME the daemon and its sessions see: an empty one of their own. Shells
   * in sessions (and the agents' shell snapshots) read rc files from HOME; what
   * this machine's user put there (pyenv's rehash, which waits a minute on a
   * lock that a killed shell leaves) must not decide whether a test passes, and
   * a test must not leave it broken for the next.
   */
  get userHome(): string {
    return path.join(this.home, 'user');
  }

  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: this.userHome, ...this.extraEnv, CODEPIPER_HOME: this.home };
    delete env.TMUX;
    delete env.TMUX_PANE;
    return env;
  }

  static async start(extraEnv: Record<string, string> = {}): Promise<TestDaemon> {
    const daemon = new TestDaemon(tempHome(), extraEnv);
    await daemon.start();
    return daemon;
  }

  async start(): Promise<void> {
    mkdirSync(this.userHome, { recursive: true });
    const child = spawn(process.execPath, [cliPath, 'daemon', ...this.args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`daemon exited with ${code}:\n${this.output}`))));
    try {
      // A busy machine can take a while; a daemon that never answers is killed, never left behind.
      await Promise.race([waitFor('the daemon to answer', () => this.client.call(daemonEndpoints.health).then(() => true), 60_000), exited]);
      // A daemon that dies under a test, not stopped by it, says why in the test's output (its home, and its log, are gone by then).
      child.once('exit', (code, signal) => {
        if (this.process === child) process.stderr.write(`\ndaemon of ${this.home} exited, not stopped by the harness (${signal ?? `code ${code}`}); its output:\n${this.output}\n`);
      });
    } catch (error) {
      child.kill('SIGKILL');
      this.process = undefined;
      throw error;
    }
  }

  /**
   * Runs `restart` (which has the daemon restart itself: `POST /daemon/restart`)
   * and waits for the replacement to answer; the harness then stops that one,
   * by pid, as it would have stopped the first. Resolves with the new pid.
   */
  async restartBy(restart: () => Promise<unknown>): Promise<number> {
    const child = this.process;
    assert.ok(child, 'a daemon the harness started');
    const before = (await this.client.call(daemonEndpoints.status)).pid;
    this.process = undefined;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await restart();
    await exited;
    const status = await waitFor('the new daemon to answer', () => this.client.call(daemonEndpoints.status).then((s) => s.pid !== before && s, () => undefined), 60_000);
    this.replacementPid = status.pid;
    return status.pid;
  }

  /** Graceful stop (SIGTERM); resolves when the process has exited. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** SIGKILL: the daemon gets no chance to clean up. */
  async crash(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const replacement = this.replacementPid;
    if (replacement !== undefined) {
      this.replacementPid = undefined;
      process.kill(replacement, signal);
      await waitFor('the restarted daemon to exit', () => !isAlive(replacement) || undefined, 60_000);
      return;
    }
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.process = undefined;
    child.kill(signal);
    await exited;
  }

  /** Runs the real CLI against this daemon's home, with `env` added to its environment. */
  cli(args: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
    return runCli(args, { ...options, env: { ...this.env, ...options.env } });
  }

  /** The lines of the daemon's log that mention `text` (a session id, say): for a failing assertion to show what the daemon did. */
  logLines(text: string): string[] {
    const log = readFileSync(path.join(this.home, 'logs', 'daemon.log'), 'utf8');
    return log.split('\n').filter((line) => line.includes(text));
  }

  tmux(args: string[]): CliResult {
    const result = spawnSync('tmux', ['-S', this.tmuxSocket, ...args], { encoding: 'utf8', env: this.env });
    return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
  }

  /**
   * Ends the tmux server of this home and waits for its sessions' programs
   * (their process groups) to be gone: they end on the hang-up kill-server
   * sends, some writing into the home (their HOME) as they go. What still runs
   * after a while is killed.
   */
  async endTmux(): Promise<void> {
    const groups = this.tmux(['list-panes', '-a', '-F', '#{pane_pid}']).stdout.split('\n').filter(Boolean).map(Number);
    this.tmux(['kill-server']);
    const alive = (group: number): boolean => isAlive(-group);
    await waitFor('the sessions’ programs to end', () => !groups.some(alive) || undefined, 15_000).catch(() => {
      for (const group of groups.filter(alive)) process.kill(-group, 'SIGKILL');
    });
  }

  /** Stops the daemon, the tmux server of this home, and removes the home. */
  async dispose(): Promise<void> {
    await this.stop();
    await this.endTmux();
    deleteHome(this.home);
  }
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`codepiper ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}


/**
 * A daemon and a scratch directory for the enclosing suite: started before
 * its tests, removed after them. Read them from the returned object inside tests.
 */
export function suiteDaemon(extraEnv: Record<string, string> = {}): { readonly daemon: TestDaemon; readonly workdir: string } {
  const suite = {} as { daemon: TestDaemon; workdir: string };
  before(async () => {
    suite.daemon = await TestDaemon.start(extraEnv);
    suite.workdir = mkdtempSync('/tmp/cpt-work-');
  });
  after(async () => {
    await suite.daemon?.dispose();
    if (suite.workdir) rmSync(suite.workdir, { recursive: true, force: true });
  });
  return suite;
}
