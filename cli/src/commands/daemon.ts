import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { CAC } from 'cac';
import { codepiperHome, DaemonUnreachableError, daemonEndpoints, daemonSocketPath, type ApiClient } from '@codepiper/sdk';
import { connect, daemonStatus, type DaemonStatus } from '../client.js';
import { EXIT_NO_DAEMON, UsageError } from '../errors.js';
import { formatDuration, formatFields } from '../format.js';
import { print, printResult } from '../output.js';

const WAIT_MS = 10_000;
const POLL_MS = 50;
const LOG_TAIL_LINES = 20;
const MAIN_SCRIPT = fileURLToPath(new URL('../main.js', import.meta.url));

/** Polls `done` every 50 ms; false if it never held within `timeoutMs`. */
async function pollUntil(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

const answers = (client: ApiClient): Promise<boolean> => client.call(daemonEndpoints.health).then(
  () => true,
  () => false,
);

const isGone = (client: ApiClient): Promise<boolean> => client.call(daemonEndpoints.health).then(
  () => false,
  (error: unknown) => error instanceof DaemonUnreachableError,
);

async function runInForeground(): Promise<number> {
  // Loaded here so that the client commands never load the kernel and its plugins.
  const [{ runDaemon }, { firstPartyPlugins }] = await Promise.all([import('@codepiper/core'), import('../plugins.js')]);
  await runDaemon({ plugins: firstPartyPlugins, foreground: true });
  // runDaemon tells of a failed start on stderr and through process.exitCode.
  return Number(process.exitCode ?? 0);
}

/** The last lines `file` got from `offset` on. */
async function logTail(file: string, offset: number): Promise<string> {
  const text = (await readFile(file)).subarray(offset).toString('utf8').trimEnd();
  return text.split('\n').slice(-LOG_TAIL_LINES).join('\n');
}

/** Starts `codepiper daemon` in the background, its output appended to `<home>/logs/daemon.out`; returns once it answers. */
async function startDetached(home: string): Promise<void> {
  const client = connect(home);
  const running = await daemonStatus(client);
  if (running) {
    print(`daemon already running (pid ${running.pid}), socket ${running.socket}`);
    return;
  }
  const logs = path.join(home, 'logs');
  await mkdir(logs, { recursive: true, mode: 0o700 });
  const outFile = path.join(logs, 'daemon.out');
  const out = await open(outFile, 'a', 0o600);
  await out.chmod(0o600);
  const offset = (await out.stat()).size;
  const child = spawn(process.execPath, [MAIN_SCRIPT, 'daemon'], {
    detached: true,
    cwd: home,
    env: { ...process.env, CODEPIPER_HOME: home },
    stdio: ['ignore', out.fd, out.fd],
  });
  await out.close();
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ?? `code ${code}`));
  child.once('error', (error) => (exit = error.message));
  const up = await pollUntil(async () => exit !== undefined || (await answers(client)), WAIT_MS);
  if (exit !== undefined || !up) {
    const what = exit !== undefined ? `the daemon exited during startup (${exit})` : `the daemon did not answer within ${WAIT_MS / 1000} s (it may still be starting)`;
    throw new Error(`${what}; the end of ${outFile}:\n${await logTail(outFile, offset)}`);
  }
  child.unref();
  print(`daemon started (pid ${child.pid}), socket ${daemonSocketPath(home)}`);
}

async function stop(client: ApiClient): Promise<void> {
  try {
    await client.call(daemonEndpoints.stop);
  } catch (error) {
    if (!(error instanceof DaemonUnreachableError)) throw error;
    print('daemon: not running');
    return;
  }
  if (!(await pollUntil(() => isGone(client), WAIT_MS))) throw new Error(`the daemon did not stop within ${WAIT_MS / 1000} s`);
  print('daemon stopped');
}

const statusFields = (s: DaemonStatus): string =>
  formatFields([
    ['daemon', 'running'],
    ['pid', String(s.pid)],
    ['version', s.version],
    ['home', s.home],
    ['socket', s.socket],
    ['database', s.database],
    ['started', `${s.startedAt} (up ${formatDuration(s.uptimeSeconds)})`],
    ['plugins', s.plugins.map((p) => `${p.name}@${p.version}`).join(', ')],
  ]);

async function status(client: ApiClient, json: boolean | undefined): Promise<number> {
  const result = await daemonStatus(client);
  if (!result) {
    print('daemon: not running');
    return EXIT_NO_DAEMON;
  }
  printResult(result, json, statusFields);
  return 0;
}

export function registerDaemonCommands(cli: CAC): void {
  cli
    .command('daemon [action]', 'Run the daemon in the foreground; `daemon stop` stops it, `daemon status` describes it')
    .usage('daemon [--detach] | daemon stop | daemon status [--json]')
    .option('--detach', 'Start the daemon in the background; return once it answers')
    .option('--json', 'With status: print the API response as JSON')
    .example('  $ codepiper daemon --detach')
    .example('  $ codepiper daemon status --json')
    .example('  $ codepiper daemon stop')
    .action(async (action: string | undefined, options: { detach?: boolean; json?: boolean }) => {
      if (action !== undefined && options.detach) throw new UsageError('--detach only applies to starting the daemon');
      const home = codepiperHome();
      switch (action) {
        case undefined:
          return options.detach ? startDetached(home) : runInForeground();
        case 'stop':
          return stop(connect(home));
        case 'status':
          return status(connect(home), options.json);
        default:
          throw new UsageError(`unknown daemon action "${action}" (expected stop or status)`);
      }
    });
}
