import { spawn, type ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { CAC } from 'cac';
import { codepiperHome, DaemonUnreachableError, daemonEndpoints, daemonSocketPath, type ApiClient } from '@codepiper/sdk';
import type { WebFlags } from '@codepiper/core';
import { optionValue } from '../args.js';
import { withActions } from '../command-line.js';
import { connect, daemonStatus, type DaemonStatus } from '../client.js';
import { EXIT_NO_DAEMON, UsageError } from '../errors.js';
import { installService, serviceFile, uninstallService, type ServiceSpec } from './daemon-service.js';
import { formatDuration, formatFields, formatMegabytes } from '../format.js';
import { print, printResult } from '../output.js';

/** How long `--detach` waits for the new daemon to answer, and `stop` for it to go: a busy machine can take many seconds. */
const WAIT_MS = 30_000;
const POLL_MS = 50;
const LOG_TAIL_LINES = 20;
/** The script this CLI was started as, for starting the daemon in the background. */
const MAIN_SCRIPT = process.argv[1]!;
/** A detached daemon's notices (the bootstrap password) go to `daemon --detach` through this descriptor, never to a file. */
const NOTICE_FD_VARIABLE = 'CODEPIPER_NOTICE_FD';
const NOTICE_FD = 3;
/** Set by the login service: a restart is its to do. */
const SUPERVISED_VARIABLE = 'CODEPIPER_SUPERVISED';
/** A supervised daemon's exit asking to be started again: EX_TEMPFAIL, a failure to systemd's Restart=on-failure and launchd's KeepAlive. */
const EXIT_RESTART = 75;
/** How long a stopped daemon waits for what its plugins left open (a child's pipe, a timer) before it exits anyway. */
const EXIT_GRACE_MS = 3_000;
/**
 * For the daemon's malloc (glibc), set by whatever starts it in the
 * background (`--detach`, a restart, the login service; scripts/start too).
 * glibc raises its trim threshold each time it frees a large block, as a
 * start does (read files, compiled code), and then keeps megabytes of freed
 * memory for good: a fixed threshold gives them back, about 5 MB of an idle
 * daemon's 72. The daemon takes it out of its own environment at once, so that
 * the programs it starts do not inherit it.
 */
const DAEMON_MALLOC_ENV = { MALLOC_TRIM_THRESHOLD_: String(128 * 1024) };

interface DaemonOptions {
  detach?: boolean;
  json?: boolean;
  web?: boolean;
  host?: unknown;
  port?: unknown;
  tlsCert?: unknown;
  tlsKey?: unknown;
}

/** The `--web` flags, checked; undefined without `--web`. */
export function webFlags(options: DaemonOptions): WebFlags | undefined {
  const host = optionValue(options.host, '--host');
  const portText = optionValue(options.port, '--port');
  const tlsCert = optionValue(options.tlsCert, '--tls-cert');
  const tlsKey = optionValue(options.tlsKey, '--tls-key');
  if (!options.web) {
    const given = [host && '--host', portText && '--port', tlsCert && '--tls-cert', tlsKey && '--tls-key'].filter(Boolean);
    if (given.length > 0) throw new UsageError(`${given.join(', ')} only apply with --web`);
    return undefined;
  }
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (portText !== undefined && !(/^\d+$/.test(portText) && Number(portText) <= 65535)) throw new UsageError(`--port expects a port number (0-65535), got "${portText}"`);
  return {
    ...(host !== undefined && { host }),
    ...(portText !== undefined && { port: Number(portText) }),
    ...(tlsCert !== undefined && { tlsCert: path.resolve(tlsCert) }),
    ...(tlsKey !== undefined && { tlsKey: path.resolve(tlsKey) }),
  };
}

/** The flags again, for the background daemon `--detach` starts. */
function webArgs(web: WebFlags | undefined): string[] {
  if (!web) return [];
  return [
    '--web',
    ...(web.host !== undefined ? ['--host', web.host] : []),
    ...(web.port !== undefined ? ['--port', String(web.port)] : []),
    ...(web.tlsCert !== undefined ? ['--tls-cert', web.tlsCert, '--tls-key', web.tlsKey!] : []),
  ];
}

/** Notices for the person who started the daemon: the descriptor `--detach` reads, or stderr. */
function noticeWriter(): (text: string) => void {
  const fd = process.env[NOTICE_FD_VARIABLE];
  delete process.env[NOTICE_FD_VARIABLE];
  if (fd === undefined) return (text) => void process.stderr.write(`${text}\n`);
  return (text) => {
    try {
      writeSync(Number(fd), `${text}\n`);
    } catch {
      // `daemon --detach` has returned: nobody is left to tell.
    }
  };
}

/** Polls `done` every 50 ms; false if it never held within `timeoutMs`. */
async function pollUntil(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

const isGone = (client: ApiClient): Promise<boolean> => client.call(daemonEndpoints.health).then(
  () => false,
  (error: unknown) => error instanceof DaemonUnreachableError,
);

async function runInForeground(web: WebFlags | undefined): Promise<number> {
  for (const name of Object.keys(DAEMON_MALLOC_ENV)) delete process.env[name];
  // Loaded here so that the client commands never load the kernel and its plugins.
  const [{ runDaemon }, { firstPartyPlugins }] = await Promise.all([import('@codepiper/core'), import('../plugins.js')]);
  const end = await runDaemon({ plugins: firstPartyPlugins, foreground: true, web, notify: noticeWriter() });
  if (end.restart) return relaunch(web, end.web);
  exitDespiteLeftovers();
  // runDaemon tells of a failed start on stderr and through process.exitCode.
  return Number(process.exitCode ?? 0);
}

/**
 * A daemon that has said it stopped must end: one a forgotten child process
 * or timer kept alive held its home's lock and its test, or service manager,
 * waiting forever. It names what was still open, for the plugin to be mended.
 */
function exitDespiteLeftovers(): void {
  setTimeout(() => {
    process.stderr.write(`codepiper daemon: stopped, but still held open by ${process.getActiveResourcesInfo().join(', ')}; exiting\n`);
    process.exit();
  }, EXIT_GRACE_MS).unref();
}

/**
 * After `POST /daemon/restart`: a daemon run by the login service exits with
 * EXIT_RESTART for the service to start it again; any other starts its
 * replacement in the background, on the same TCP port as it had (`--port 0`
 * would give the dashboard a new address).
 */
async function relaunch(web: WebFlags | undefined, listened: string | null): Promise<number> {
  if (process.env[SUPERVISED_VARIABLE] === '1') {
    process.stderr.write('codepiper daemon: restarting (the login service starts it again)\n');
    return EXIT_RESTART;
  }
  const port = listened === null ? undefined : Number(new URL(listened).port);
  const { child, outFile } = await spawnDaemon(codepiperHome(), web && port ? { ...web, port } : web);
  child.unref();
  process.stderr.write(`codepiper daemon: restarted in the background (pid ${child.pid}); its output goes to ${outFile}\n`);
  return 0;
}

/** Starts `codepiper daemon` detached, its output appended to `<home>/logs/daemon.out` (from `offset` on). */
async function spawnDaemon(home: string, web: WebFlags | undefined, notices = false): Promise<{ child: ChildProcess; outFile: string; offset: number }> {
  const logs = path.join(home, 'logs');
  await mkdir(logs, { recursive: true, mode: 0o700 });
  const outFile = path.join(logs, 'daemon.out');
  const out = await open(outFile, 'a', 0o600);
  await out.chmod(0o600);
  const offset = (await out.stat()).size;
  const env: NodeJS.ProcessEnv = { ...process.env, ...DAEMON_MALLOC_ENV, CODEPIPER_HOME: home };
  delete env[NOTICE_FD_VARIABLE];
  const child = spawn(process.execPath, [MAIN_SCRIPT, 'daemon', ...webArgs(web)], {
    detached: true,
    cwd: home,
    env: notices ? { ...env, [NOTICE_FD_VARIABLE]: String(NOTICE_FD) } : env,
    stdio: ['ignore', out.fd, out.fd, ...(notices ? ['pipe' as const] : [])],
  });
  await out.close();
  return { child, outFile, offset };
}

/** What `file` got from `offset` on. */
async function logSince(file: string, offset: number): Promise<string> {
  return (await readFile(file)).subarray(offset).toString('utf8').trimEnd();
}

/** Starts `codepiper daemon` in the background, its output appended to `<home>/logs/daemon.out`; returns once it answers. */
async function startDetached(home: string, web: WebFlags | undefined): Promise<void> {
  const client = connect(home);
  const running = await daemonStatus(client);
  if (running) {
    print(`daemon already running (pid ${running.pid}), socket ${running.socket}`);
    return;
  }
  const { child, outFile, offset } = await spawnDaemon(home, web, true);
  const noticePipe = child.stdio[NOTICE_FD] as Readable;
  let notices = '';
  noticePipe.setEncoding('utf8').on('data', (chunk: string) => (notices += chunk));
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ?? `code ${code}`));
  child.once('error', (error) => (exit = error.message));
  // The daemon it started, by its pid: another one that won a race to start on this home answers on the same socket.
  let started: DaemonStatus | undefined;
  const up = await pollUntil(async () => {
    started = await client.call(daemonEndpoints.status).then((status) => (status.pid === child.pid ? status : undefined), () => undefined);
    return exit !== undefined || started !== undefined;
  }, WAIT_MS);
  if (exit !== undefined || !up) {
    const written = await logSince(outFile, offset);
    // A daemon that refuses to start says why in one line (see runDaemon): that line is the error. It is
    // not always the last: a daemon that won a race to start writes to the same file.
    const refusal = exit !== undefined ? [...written.matchAll(/^codepiper daemon: (.+)$/gm)].at(-1)?.[1] : undefined;
    if (refusal) throw new Error(`the daemon did not start: ${refusal} (its log: ${outFile})`);
    const tail = written.split('\n').slice(-LOG_TAIL_LINES).join('\n');
    const what = exit !== undefined ? `the daemon exited during startup (${exit})` : `the daemon did not answer within ${WAIT_MS / 1000} s (it may still be starting)`;
    throw new Error(`${what}; the end of ${outFile}:\n${tail}`);
  }
  noticePipe.destroy();
  child.unref();
  print(`daemon started (pid ${child.pid}), socket ${daemonSocketPath(home)}${started?.web ? `, web ${started.web}` : ''}`);
  if (notices) process.stdout.write(notices);
}

/** What the login service runs: this CLI's `daemon`, with the variables the daemon reads and the PATH it finds programs on. */
function serviceSpec(home: string, web: WebFlags | undefined): ServiceSpec {
  const kept = Object.entries(process.env).filter(([name, value]) => value !== undefined && (/^CODEPIPER_/.test(name) || ['PATH', 'LANG', 'LC_ALL'].includes(name)));
  return { argv: [process.execPath, MAIN_SCRIPT, 'daemon', ...webArgs(web)], env: { ...(Object.fromEntries(kept) as Record<string, string>), ...DAEMON_MALLOC_ENV, [SUPERVISED_VARIABLE]: '1' }, home };
}

/** Asks the daemon to restart and waits for its replacement (another pid) to answer. */
async function restart(client: ApiClient): Promise<number> {
  const running = await daemonStatus(client);
  if (!running) {
    print('daemon: not running (start it with codepiper daemon --detach)');
    return EXIT_NO_DAEMON;
  }
  await client.call(daemonEndpoints.restart);
  let replacement: DaemonStatus | undefined;
  const up = await pollUntil(async () => {
    replacement = await daemonStatus(client).catch(() => undefined);
    return replacement !== undefined && replacement.pid !== running.pid;
  }, WAIT_MS);
  if (!up) throw new Error(`the daemon stopped but no new one answered within ${WAIT_MS / 1000} s; see ${path.join(running.home, 'logs', 'daemon.out')}`);
  print(`daemon restarted (pid ${replacement!.pid}), socket ${replacement!.socket}${replacement!.web ? `, web ${replacement!.web}` : ''}`);
  return 0;
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
    ['web', s.web ?? 'off (start with --web)'],
    ['plugin api', s.pluginApi],
    ['plugins', s.plugins.map((p) => p.name).join(', ')],
    ...s.problems.map(({ message, since }): [string, string] => ['problem', `${message} (since ${since})`]),
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
    .command('backup <file>', 'Write a consistent copy of the database to a new file while the daemon runs (restore: stop the daemon, put it in place of codepiper.db)')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper backup ~/backups/codepiper-$(date +%F).db')
    .action(async (file: string, options: { json?: boolean }) => {
      const written = await connect().call(daemonEndpoints.backup, { body: { path: path.resolve(file) } });
      printResult(written, options.json, (w) => `backed up the database (${formatMegabytes(w.bytes)}) to ${w.path}`);
    });

  withActions(
    cli.command('daemon [action]', 'Run the daemon in the foreground; `daemon stop` stops it, `daemon restart` starts it again (sessions keep running), `daemon status` describes it, `daemon install` makes it a login service'),
    ['stop', 'restart', 'status', 'install', 'uninstall'],
  )
    .usage('daemon [--detach] [--web [--host H] [--port P] [--tls-cert FILE --tls-key FILE]] | daemon stop | daemon restart | daemon status [--json] | daemon install [--web ...] | daemon uninstall')
    .option('--detach', 'Start the daemon in the background; return once it answers')
    .option('--web', 'Also serve the API and web UI over TCP, to signed-in users only (password + TOTP)')
    .option('--host <host>', 'With --web: the address to listen on (default 127.0.0.1, this machine only)')
    .option('--port <port>', 'With --web: the TCP port (default 4280; 0 picks a free one)')
    .option('--tls-cert <file>', 'With --web: serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'With --web: the certificate’s private key (PEM)')
    .option('--json', 'With status: print the API response as JSON')
    .example('  $ codepiper daemon --detach')
    .example('  $ codepiper daemon --detach --web --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem')
    .example('  $ codepiper daemon status --json')
    .example('  $ codepiper daemon stop')
    .example('  $ codepiper daemon restart')
    .example('  $ codepiper daemon install --web    # a systemd user unit (Linux) or a launchd agent (macOS)')
    .action(async (action: string | undefined, options: DaemonOptions) => {
      if (options.detach && action !== undefined) throw new UsageError('--detach only applies to starting the daemon');
      if (options.web && action !== undefined && action !== 'install') throw new UsageError('--web only applies to starting the daemon or installing its service');
      const home = codepiperHome();
      const web = webFlags(options);
      switch (action) {
        case undefined:
          return options.detach ? startDetached(home, web) : runInForeground(web);
        case 'stop':
          return stop(connect(home));
        case 'restart':
          return restart(connect(home));
        case 'status':
          return status(connect(home), options.json);
        case 'install':
          for (const line of await installService(serviceFile(serviceSpec(home, web)))) print(line);
          return 0;
        case 'uninstall':
          for (const line of await uninstallService(serviceFile(serviceSpec(home, web)))) print(line);
          return 0;
        default:
          throw new UsageError(`unknown daemon action "${action}" (expected stop, restart, status, install or uninstall)`);
      }
    });
}
