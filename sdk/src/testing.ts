/**
 * The test kit (`@codepiper/sdk/testing`): a real daemon in a temporary home
 * with the plugins under test, for plugin authors' own tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from './client.js';
import { daemonEndpoints } from './daemon.js';
import { daemonSocketPath } from './home.js';

export { listProcesses, processEnvironment, readProcess, type ProcessEntry } from './processes.js';

export interface TestDaemonOptions {
  /**
   * Plugins to load after the built-in ones: a path (absolute, relative to
   * the current directory, or a `file:` URL such as
   * `new URL('./index.js', import.meta.url)`) or an npm package name.
   */
  plugins?: readonly (string | URL)[];
  /** The rest of `config.yaml`: plugin sections, `log_level`... */
  config?: Record<string, unknown>;
  /** Added to the daemon's environment (and the CLI's). */
  env?: Record<string, string>;
  /** The `codepiper` CLI script; by default the `bin` of the `@codepiper/cli` package (a dev dependency of yours). */
  cli?: string;
  /** How long the daemon may take to answer; 20 s by default. */
  startTimeoutMs?: number;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestDaemon {
  /** The typed API client, over the daemon's socket. */
  readonly client: ApiClient;
  /** The temporary `CODEPIPER_HOME`. */
  readonly home: string;
  /** Runs `codepiper ARGS` against this daemon. */
  cli(args: readonly string[], options?: { input?: string; env?: Record<string, string> }): Promise<CliResult>;
  /** The daemon's log so far (`logs/daemon.log`), one parsed JSON object a line. */
  logs(): Record<string, unknown>[];
  /** Stops the daemon, ends its sessions (their tmux server) and removes the home. */
  stop(): Promise<void>;
}

/**
 * Starts `codepiper daemon` in a new temporary home whose `config.yaml` lists
 * `plugins` and holds `config`; resolves once it answers. If it cannot start,
 * rejects with what it printed (the error naming the faulty plugin or setting).
 */
export async function startTestDaemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const cli = options.cli ?? findCli();
  // Unix socket paths are limited to about 107 bytes: keep the home short.
  const home = fs.mkdtempSync('/tmp/cpt-');
  const config = { ...options.config, plugins: (options.plugins ?? []).map(resolvePlugin) };
  // JSON is YAML.
  fs.writeFileSync(path.join(home, 'config.yaml'), `${JSON.stringify(config, null, 2)}\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, CODEPIPER_HOME: home };
  // The daemon's tmux must not think it runs inside the tmux of whoever runs the tests.
  delete env.TMUX;
  delete env.TMUX_PANE;

  const child = spawn(process.execPath, [cli, 'daemon'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const client = new ApiClient({ socketPath: daemonSocketPath(home) });
  const daemon: TestDaemon = {
    client,
    home,
    cli: (args, run = {}) => runCli(cli, args, { ...env, ...run.env }, run.input),
    logs: () => readLog(path.join(home, 'logs', 'daemon.log')),
    stop: () => stopDaemon(child, home, env),
  };

  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`the daemon exited during start-up (${signal ?? `code ${code}`}):\n${output.trim()}`))),
  );
  try {
    await Promise.race([waitFor('the daemon to answer', () => client.call(daemonEndpoints.health).then(() => true), options.startTimeoutMs ?? 20_000), exited]);
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  exited.catch(() => undefined);
  return daemon;
}

/**
 * Resolves with `probe`'s first value that is neither `undefined` nor
 * `false`, asking every 50 ms; fails after `timeoutMs` with `what`, the
 * probe's last error and what `context` tells of the moment (a screen, say).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  context?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}${context ? `\n${context()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Where packages are looked up: the current directory, then the running script's (the test file's) package. */
function lookupBases(): string[] {
  const script = process.argv[1];
  return [process.cwd(), ...(script ? [path.dirname(path.resolve(script))] : [])];
}

function resolveFromBases(specifier: string): string | undefined {
  for (const base of lookupBases()) {
    try {
      return createRequire(path.join(base, 'noop.js')).resolve(specifier);
    } catch {
      // Try the next base.
    }
  }
  return undefined;
}

function findCli(): string {
  const manifest = resolveFromBases('@codepiper/cli/package.json');
  if (!manifest) {
    throw new Error(`cannot find the codepiper CLI from ${lookupBases().join(' or ')}: add @codepiper/cli to your devDependencies, or pass { cli: PATH }`);
  }
  const { bin } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
  return path.resolve(path.dirname(manifest), bin.codepiper!);
}

/** An absolute file for the daemon's config: the temporary home has no node_modules to look package names up in. */
function resolvePlugin(plugin: string | URL): string {
  if (plugin instanceof URL) return fileURLToPath(plugin);
  if (plugin.startsWith('.') || path.isAbsolute(plugin)) return path.resolve(plugin);
  const file = resolveFromBases(plugin);
  if (!file) throw new Error(`cannot find the plugin package "${plugin}" from ${lookupBases().join(' or ')}`);
  return file;
}

function runCli(cli: string, args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

function readLog(file: string): Record<string, unknown>[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function stopDaemon(child: ChildProcess, home: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  // Sessions outlive the daemon by design; a test's must not outlive the test.
  const tmuxSocket = path.join(home, 'plugins', 'sessions', 'tmux.sock');
  if (fs.existsSync(tmuxSocket)) spawnSync('tmux', ['-S', tmuxSocket, 'kill-server'], { env, stdio: 'ignore' });
  fs.rmSync(home, { recursive: true, force: true });
}

/** What a stand-in server does with a request, given its whole body. */
export type UnixServerHandler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/**
 * Serves `handler` on the Unix socket `socketPath` while `fn` runs, then
 * closes it, cutting what is still connected: a stand-in for the daemon, to
 * test a program that talks to it (a hook forwarder) against every way an
 * answer can go wrong.
 */
export async function withUnixServer<T>(socketPath: string, handler: UnixServerHandler, fn: () => Promise<T>): Promise<T> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  try {
    return await fn();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
