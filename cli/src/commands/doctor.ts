import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CAC } from 'cac';
import { codepiperHome, databasePath } from '@codepiper/sdk';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { connect, daemonStatus } from '../client.js';
import { EXIT_FAILURE } from '../errors.js';
import { printResult } from '../output.js';
import { atLeast, parseVersion } from '../versions.js';

/** `fail` is kept for required checks: it makes `doctor` exit 1. */
type Level = 'ok' | 'warn' | 'fail' | 'info';

interface Check {
  name: string;
  level: Level;
  detail: string;
  hint?: string;
}

const SYMBOLS: Record<Level, string> = { ok: '✔', warn: '⚠', fail: '✖', info: '-' };
const MIN_NODE: [number, number] = [20, 17];
const MIN_TMUX: [number, number] = [3, 2];
/** Agent CLIs the providers run, found as the daemon finds them when it is not there to ask. */
const PROVIDER_AGENTS = [
  { provider: 'claude-code', command: 'claude', variable: 'CODEPIPER_CLAUDE_BIN', install: 'npm i -g @anthropic-ai/claude-code' },
  { provider: 'codex', command: 'codex', variable: 'CODEPIPER_CODEX_BIN', install: 'npm i -g @openai/codex' },
];
/** Agent CLIs run as plain terminal programs, from PATH. */
const TERMINAL_AGENTS = ['aider', 'gemini'];

function checkNode(): Check {
  const version = parseVersion(process.versions.node);
  const ok = version !== undefined && atLeast(version, MIN_NODE);
  return { name: 'node', level: ok ? 'ok' : 'fail', detail: process.version, hint: ok ? undefined : `install Node.js ${MIN_NODE.join('.')} or newer` };
}

async function checkTmux(): Promise<Check> {
  const hint = `install tmux ${MIN_TMUX.join('.')} or newer (apt install tmux, brew install tmux)`;
  try {
    const { stdout } = await promisify(execFile)('tmux', ['-V']);
    const version = parseVersion(stdout);
    const ok = version !== undefined && atLeast(version, MIN_TMUX);
    return { name: 'tmux', level: ok ? 'ok' : 'fail', detail: stdout.trim(), hint: ok ? undefined : hint };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { name: 'tmux', level: 'fail', detail: missing ? 'not found on PATH' : `tmux -V failed: ${(error as Error).message}`, hint };
  }
}

async function checkHome(home: string): Promise<Check> {
  const info = await stat(home).catch(() => undefined);
  if (!info?.isDirectory()) {
    return { name: 'home', level: 'warn', detail: `${home} ${info ? 'is not a directory' : 'does not exist'}`, hint: 'the daemon creates it on its first start: codepiper daemon --detach' };
  }
  const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
  if ((info.mode & 0o077) !== 0) return { name: 'home', level: 'warn', detail: `${home} has mode ${mode}, should be 0700`, hint: `chmod 700 ${home}` };
  return { name: 'home', level: 'ok', detail: `${home} (mode ${mode})` };
}

async function checkDaemon(home: string): Promise<Check> {
  try {
    const status = await daemonStatus(connect(home));
    if (status) return { name: 'daemon', level: 'ok', detail: `running (pid ${status.pid}, version ${status.version})` };
    return { name: 'daemon', level: 'warn', detail: 'not running', hint: 'codepiper daemon --detach' };
  } catch (error) {
    return { name: 'daemon', level: 'warn', detail: `not answering: ${(error as Error).message}`, hint: `see ${path.join(home, 'logs')}` };
  }
}

async function checkDatabase(home: string): Promise<Check> {
  const file = databasePath(home);
  const exists = await stat(file).then((info) => info.isFile(), () => false);
  return exists
    ? { name: 'database', level: 'ok', detail: file }
    : { name: 'database', level: 'warn', detail: `${file} does not exist`, hint: 'the daemon creates it on its first start: codepiper daemon --detach' };
}

/** The first executable file named `name` in the directories of `searchPath`. */
export async function findOnPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    const found = await access(file, constants.X_OK).then(
      () => stat(file).then((info) => info.isFile()),
      () => false,
    );
    if (found) return file;
  }
  return undefined;
}

/** Agent hook forwarders are shell scripts that reach the daemon with curl. */
async function checkCurl(): Promise<Check> {
  const file = await findOnPath('curl', process.env.PATH ?? '');
  return file
    ? { name: 'curl', level: 'ok', detail: file }
    : { name: 'curl', level: 'warn', detail: 'not found on PATH', hint: 'install curl (apt install curl): Claude Code and Codex sessions report to the daemon with it' };
}

/** On Linux the daemon names the process behind a control request (policies, approvals, secrets, auth) with `ss`; without it those requests are refused. */
async function checkSs(): Promise<Check> {
  if (process.platform !== 'linux') return { name: 'ss', level: 'info', detail: `not used on ${process.platform}` };
  const file = await findOnPath('ss', process.env.PATH ?? '');
  return file
    ? { name: 'ss', level: 'ok', detail: file }
    : { name: 'ss', level: 'fail', detail: 'not found on PATH', hint: 'install iproute2 (apt install iproute2): without it the daemon refuses policy, approval, secret and auth commands' };
}

async function checkAgent(name: string): Promise<Check> {
  const file = await findOnPath(name, process.env.PATH ?? '');
  return { name, level: file ? 'ok' : 'info', detail: file ?? 'not found' };
}

/**
 * The providers' agent CLIs as the running daemon finds them (its PATH, its
 * environment, config.yaml); with no daemon, as it would from this shell.
 */
async function checkProviderAgents(home: string): Promise<Check[]> {
  const providers = await connect(home)
    .call(sessionEndpoints.providers)
    .then((r) => r.providers, () => undefined);
  if (providers) {
    return providers.flatMap(({ id, program }): Check[] => {
      if (!program) return [];
      if (program.path) return [{ name: id, level: 'ok', detail: `${program.path} (as the daemon finds it)` }];
      return [{ name: id, level: 'warn', detail: `the daemon does not find ${JSON.stringify(program.command)}`, hint: program.hint }];
    });
  }
  return Promise.all(
    PROVIDER_AGENTS.map(async ({ provider, command, variable, install }): Promise<Check> => {
      const configured = process.env[variable];
      const file = configured ? await findOnPath(path.basename(configured), path.dirname(configured)) : await findOnPath(command, process.env.PATH ?? '');
      const hint = `${install}, or point at it with ${variable}=/path/to/${command} (or in config.yaml)`;
      if (file) return { name: provider, level: 'ok', detail: `${file}${configured ? ` ($${variable})` : ''}` };
      if (configured) return { name: provider, level: 'warn', detail: `$${variable} is ${configured}, which is not an executable file`, hint };
      return { name: provider, level: 'info', detail: `${command} not found on PATH`, hint };
    }),
  );
}

const formatCheck = (check: Check): string =>
  `${SYMBOLS[check.level]} ${check.name}: ${check.detail}${check.hint ? `\n    fix: ${check.hint}` : ''}`;

export function registerDoctorCommand(cli: CAC): void {
  cli
    .command('doctor', 'Check that CodePiper can run here: Node, tmux, home, daemon, database, curl, ss, agent CLIs')
    .option('--json', 'Print the checks as JSON')
    .example('  $ codepiper doctor')
    .action(async (options: { json?: boolean }) => {
      const home = codepiperHome();
      const checks = (
        await Promise.all([checkNode(), checkTmux(), checkHome(home), checkDaemon(home), checkDatabase(home), checkCurl(), checkSs(), checkProviderAgents(home), ...TERMINAL_AGENTS.map(checkAgent)])
      ).flat();
      const ok = checks.every((check) => check.level !== 'fail');
      printResult({ ok, checks }, options.json, () => checks.map(formatCheck).join('\n'));
      return ok ? 0 : EXIT_FAILURE;
    });
}
