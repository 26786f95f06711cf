import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { cliPath, TestDaemon } from '@codepiper/tests/harness';
import { installedFromNpm } from './npm-cache.js';
import { groupPids, rssMegabytes } from './proc.js';
import { distribution, round } from './stats.js';

const SESSIONS = Number(process.env.BENCH_STARTUP_SESSIONS ?? 200);
const CLI_RUNS = 15;
const DAEMON_STARTS = 5;
const IDLE_SECONDS = 10;
/** The first CodePiper, as published, and the Bun it runs on; installed from npm into this cache. */
const FIRST_CODEPIPER = { codepiper: '0.2.1', bun: '1.4.5' };

/**
 * The environment a user's shell gives: without NODE_EXTRA_CA_CERTS, which
 * some machines set for their own registry proxy and which costs every Node
 * start (not Bun's) some 40 ms of reading certificates.
 */
function asUser(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _machineOnly, ...rest } = env;
  return rest;
}

/** Median wall time (ms) of running `argv` to its end, `runs` times. */
function commandMs(argv: string[], env: NodeJS.ProcessEnv, runs = CLI_RUNS): number {
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(argv[0]!, argv.slice(1), { env: asUser(env), stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${argv.join(' ')} failed: ${result.stderr.toString()}`);
    if (i >= 2) times.push(ms); // two warm-up runs fill the page cache
  }
  return round(distribution(times).p50, 1);
}

function healthy(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/health' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/** Spawns a daemon; resolves with how long it took to answer /health, and the process. */
async function startDaemon(argv: string[], env: NodeJS.ProcessEnv, socketPath: string) {
  const start = process.hrtime.bigint();
  // A process group of its own: the first CodePiper's `daemon` runs the daemon as a child process.
  const child = spawn(argv[0]!, argv.slice(1), { env: asUser(env), stdio: 'ignore', detached: true });
  const deadline = Date.now() + 60_000;
  while (!(await healthy(socketPath))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${argv.join(' ')} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, child };
}

async function stopDaemon(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGINT'); // Ctrl-C to the whole group: how both daemons stop in the foreground
  await exited;
  while (groupPids(child.pid!).length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * A Node that does nothing, in the same run: the floor under our numbers (the
 * first CodePiper runs on Bun). How long `node -e 0` takes, and the RSS of a
 * Node that only waits.
 */
async function bareNode(env: NodeJS.ProcessEnv): Promise<{ startMs: number; idleRssMB: number }> {
  const startMs = commandMs([process.execPath, '-e', '0'], env);
  const waiting = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { env: asUser(env), stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    return { startMs, idleRssMB: round(rssMegabytes(waiting.pid!), 1) };
  } finally {
    waiting.kill();
  }
}

/**
 * The RSS, once idle, of the stack alone (stack-floor.ts: fastify, sqlite3
 * and pino serving /health): the floor under the daemon's own, measured in
 * the same run.
 */
async function stackFloor(env: NodeJS.ProcessEnv): Promise<{ idleRssMB: number }> {
  const floor = spawn(process.execPath, [path.join(import.meta.dirname, 'stack-floor.js')], { env: asUser(env), stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      floor.stdout!.on('data', (data: Buffer) => data.toString().includes('ready') && resolve());
      floor.once('exit', (code) => reject(new Error(`the stack floor exited (${code}) before it listened`)));
    });
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    return { idleRssMB: round(rssMegabytes(floor.pid!), 1) };
  } finally {
    floor.kill('SIGTERM');
  }
}

/** RSS of the daemon's process group (ours holds its tmux control clients; the first CodePiper is two processes), in MB. */
const rssMB = (pgid: number): number => round(groupPids(pgid).reduce((sum, pid) => sum + rssMegabytes(pid), 0), 1);

interface DaemonStarts {
  startMs: number;
  /** The median over the starts of the RSS once idle. */
  idleRssMB: number;
  /** The largest: in some starts V8's young generation has grown, and the daemon stays that much bigger while it idles (for a minute at least, here). */
  idleRssMaxMB: number;
}

/**
 * Median start time of `DAEMON_STARTS` starts, and the RSS of each after
 * IDLE_SECONDS: a single reading varied by 9 MB from start to start.
 * `clearSocket`: remove a socket file the last stop left (the first
 * CodePiper refuses to start over its own).
 */
async function daemonStarts(argv: string[], env: NodeJS.ProcessEnv, socketPath: string, clearSocket = false): Promise<DaemonStarts> {
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < DAEMON_STARTS; i++) {
    if (clearSocket) rmSync(socketPath, { force: true });
    const { ms, child } = await startDaemon(argv, env, socketPath);
    times.push(ms);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    rss.push(rssMB(child.pid!));
    await stopDaemon(child);
  }
  const idle = distribution(rss);
  return { startMs: round(distribution(times).p50, 1), idleRssMB: idle.p50, idleRssMaxMB: idle.max };
}

/** The first CodePiper's `bin/codepiper` and the Bun that runs it, installed once; undefined if npm cannot. */
function firstCodePiper(): { bin: string; bunDir: string } | undefined {
  const { codepiper, bun } = FIRST_CODEPIPER;
  const check = path.join('node_modules', 'codepiper', 'bin', 'codepiper');
  const dir = installedFromNpm(`first-codepiper-${codepiper}`, [`codepiper@${codepiper}`, `bun@${bun}`], check, (into) => {
    // Its own postinstall (npm no longer runs it unasked) links its workspace packages.
    execFileSync(process.execPath, [path.join(into, 'node_modules', 'codepiper', 'scripts', 'postinstall-link-workspaces.mjs')], { stdio: 'ignore' });
  });
  if (!dir) return undefined;
  return { bin: path.join(dir, check), bunDir: path.join(dir, 'node_modules', '.bin') };
}

export interface StartupResult {
  sessionsAdopted: number;
  /** `lsMs` lists SESSIONS sessions (as `tmux ls` does); `lsNoSessionsMs` none, as the first CodePiper's `sessions` does (it starts only agents' sessions). */
  codepiper: { versionMs: number; lsMs: number; lsNoSessionsMs: number; daemonStartMs: number; daemonStartAdoptingMs: number; idleRssMB: number; idleRssMaxMB: number; idleRssAdoptingMB: number };
  tmux: { lsMs: number };
  node: { startMs: number; idleRssMB: number };
  /** fastify, sqlite3 and pino alone, idle: ours less this is what the daemon's own code and its tmux client take. */
  stackFloor: { idleRssMB: number };
  firstCodePiper: { sessionsMs: number; daemonStartMs: number; idleRssMB: number; idleRssMaxMB: number } | null;
  ratios: { lsVsFirst: number | null; lsVsTmux: number; daemonStartVsFirst: number | null; idleRssVsFirst: number | null };
}

/**
 * What a person waits for: the CLI's `--version` and `ls`, and a daemon
 * start on an existing home (empty, then with SESSIONS sessions to adopt),
 * with its RSS once idle; beside `tmux ls`, a bare Node and the first
 * CodePiper (npm `codepiper@0.2.1` on Bun) measured in the same run.
 */
export async function startup(): Promise<StartupResult> {
  const cli = [process.execPath, cliPath];
  const empty = new TestDaemon();
  const busy = new TestDaemon();
  try {
    // The HOME a user has: without it the compile cache (cli/src/compile-cache.ts) cannot be kept, and every start compiles the whole bundle.
    mkdirSync(empty.userHome, { recursive: true });
    const emptyHome = await daemonStarts([...cli, 'daemon'], empty.env, empty.socketPath);
    await busy.start();
    const lsNoSessionsMs = commandMs([...cli, 'ls'], busy.env);
    for (let i = 0; i < SESSIONS; i++) {
      await busy.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', args: ['cat'], name: `adopt-${i}` } });
    }
    const versionMs = commandMs([...cli, '--version'], busy.env);
    const lsMs = commandMs([...cli, 'ls'], busy.env);
    const tmuxLsMs = commandMs(['tmux', '-S', busy.tmuxSocket, 'ls'], busy.env);
    const node = await bareNode(busy.env);
    const floor = await stackFloor(busy.env);
    await busy.stop();
    const adopting = await daemonStarts([...cli, 'daemon'], busy.env, busy.socketPath);

    const first = await measureFirstCodePiper().catch((error: Error) => {
      console.error(`the first CodePiper did not run here (${error.message}); measuring ours alone`);
      return undefined;
    });
    const ratio = (ours: number, theirs: number | undefined): number | null => (theirs ? round(ours / theirs) : null);
    return {
      sessionsAdopted: SESSIONS,
      codepiper: {
        versionMs,
        lsMs,
        lsNoSessionsMs,
        daemonStartMs: emptyHome.startMs,
        daemonStartAdoptingMs: adopting.startMs,
        idleRssMB: emptyHome.idleRssMB,
        idleRssMaxMB: emptyHome.idleRssMaxMB,
        idleRssAdoptingMB: adopting.idleRssMB,
      },
      tmux: { lsMs: tmuxLsMs },
      node,
      stackFloor: floor,
      firstCodePiper: first ?? null,
      ratios: {
        // Listing the same: no sessions.
        lsVsFirst: ratio(lsNoSessionsMs, first?.sessionsMs),
        lsVsTmux: round(lsMs / tmuxLsMs),
        daemonStartVsFirst: ratio(emptyHome.startMs, first?.daemonStartMs),
        idleRssVsFirst: ratio(emptyHome.idleRssMB, first?.idleRssMB),
      },
    };
  } finally {
    await empty.dispose();
    await busy.dispose();
  }
}

/** The first CodePiper in its own HOME, tmux directory and socket: a daemon start, and its CLI's `sessions`. */
async function measureFirstCodePiper(): Promise<NonNullable<StartupResult['firstCodePiper']> | undefined> {
  const installed = firstCodePiper();
  if (!installed) return undefined;
  const home = mkdtempSync('/tmp/cpb-first-');
  const socketPath = path.join(home, 'codepiper.sock');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${installed.bunDir}:${process.env.PATH ?? ''}`,
    HOME: home,
    TMUX_TMPDIR: home,
    CODEPIPER_SOCKET: socketPath,
    CODEPIPER_UNIX_SOCK: socketPath,
    CODEPIPER_WS_PORT: '0',
    CODEPIPER_HTTP_PORT: '0',
  };
  delete env.TMUX;
  try {
    const daemon = await daemonStarts([installed.bin, 'daemon'], env, socketPath, true);
    rmSync(socketPath, { force: true });
    const { child } = await startDaemon([installed.bin, 'daemon'], env, socketPath);
    try {
      // Its `sessions` reads the socket from -s, not from CODEPIPER_SOCKET.
      return { sessionsMs: commandMs([installed.bin, 'sessions', '-s', socketPath], env), daemonStartMs: daemon.startMs, idleRssMB: daemon.idleRssMB, idleRssMaxMB: daemon.idleRssMaxMB };
    } finally {
      await stopDaemon(child);
    }
  } finally {
    spawnSync('tmux', ['kill-server'], { env, stdio: 'ignore' });
    rmSync(home, { recursive: true, force: true });
  }
}
