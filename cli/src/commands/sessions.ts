import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CAC } from 'cac';
import { envSetEndpoints, overEnvSet, workspaceEndpoints, type WorkspaceStart } from '@codepiper/workspaces-contract';
import { sessionEndpoints, sessionPlace, SESSION_STATUSES, type SessionRecord } from '@codepiper/sessions-contract';
import { optionValue, optionValues, parseEnv, parseSecretNames, parseStatus } from '../args.js';
import { firstWord, takesRest } from '../command-line.js';
import { activeRemote, connect } from '../client.js';
import { forSession, UsageError } from '../errors.js';
import { formatAge, formatCommand, formatFields, formatTable, shortId, statusText } from '../format.js';
import { printResult } from '../output.js';
import { worktreeChanges, worktreeFields } from './worktrees.js';
import { declareProviderFlags, installedProviderFlags, providerOptionValues } from '../provider-flags.js';

interface JsonOption {
  json?: boolean;
}

interface StartOptions extends JsonOption {
  provider?: unknown;
  dir?: unknown;
  name?: unknown;
  env?: unknown;
  secret?: unknown;
  worktree?: unknown;
  workspace?: unknown;
  host?: unknown;
  envSet?: unknown;
  policySet?: unknown;
  dangerous?: boolean;
  '--': string[];
  [providerOption: string]: unknown;
}

/** `dir` made absolute, after checking that it is a directory. */
async function existingDirectory(dir: string): Promise<string> {
  const absolute = path.resolve(dir);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === 'ENOENT' ? `directory "${absolute}" does not exist` : `cannot use directory "${absolute}": ${error.message}`);
  });
  if (!info.isDirectory()) throw new Error(`"${absolute}" is not a directory`);
  return absolute;
}

/**
 * The directory a session starts in: on this machine, checked here (the
 * current one by default); on another (`--host`, or a remote daemon), an
 * absolute path as given, checked there.
 */
async function sessionDirectory(dir: string | undefined, host: string | undefined): Promise<string> {
  const elsewhere = host ?? activeRemote()?.name;
  if (elsewhere === undefined) return existingDirectory(dir ?? '.');
  if (dir === undefined || !path.isAbsolute(dir)) throw new UsageError(`a session on ${elsewhere} needs -d with an absolute path on that machine`);
  return dir;
}

/** `--worktree` alone (true), with a branch name, or absent. */
function worktreeValue(value: unknown): true | string | undefined {
  if (value === undefined || value === true) return value;
  if (typeof value === 'string' && value !== '') return value;
  throw new UsageError('--worktree takes at most one branch name');
}

/** What `start` asks for, wherever the session starts (a directory, or a workspace that has one). */
type SessionStart = WorkspaceStart & { provider: string };

const sessionRow = (s: SessionRecord, now: number): string[] => [shortId(s.id), s.name, s.provider, statusText(s), formatAge(s.createdAt, now), sessionPlace(s)];

const sessionFields = (s: SessionRecord, more: readonly (readonly [string, string])[] = []): string =>
  formatFields([
    ['id', s.id],
    ['name', s.name],
    ['provider', s.provider],
    ['status', statusText(s)],
    ['cwd', sessionPlace(s)],
    ['command', formatCommand(s.command)],
    ['created', `${s.createdAt} (${formatAge(s.createdAt)} ago)`],
    ['updated', s.updatedAt],
    ['ended', s.endedAt ?? '-'],
    ['tmux session', s.tmuxSession],
    ...Object.entries(s.metadata).map(([key, value]) => [`metadata.${key}`, typeof value === 'string' ? value : String(JSON.stringify(value))] as const),
    ...more,
  ]);

export async function registerSessionCommands(cli: CAC, argv: readonly string[]): Promise<void> {
  // `start` takes each installed provider's options as flags, as the daemon describes them (none known without a daemon).
  const installed = firstWord(argv) === 'start' ? await installedProviderFlags() : [];
  const flags = installed ?? [];
  const start = cli
    .command('start', 'Start a session: a provider’s program in a directory')
    .option('-p, --provider <provider>', 'Provider (required): shell, claude-code, codex...')
    .option('-d, --dir <dir>', 'Working directory (default: the current one)')
    .option('-w, --workspace <name>', 'Start in a workspace (codepiper workspace): its directory, provider, env set and worktree')
    .option('--env-set <name>', 'Put an env set’s variables and secrets (codepiper env-set) into the environment; --env and --secret add to it')
    .option('-n, --name <name>', 'Session name (default: chosen by the daemon)')
    .option('--env <NAME=VALUE>', 'Environment variable for the session; repeatable')
    .option('--secret <NAME>', 'Put a named secret (codepiper secret set NAME) into the session’s environment as NAME; repeatable')
    .option('--prompt <text>', 'A first prompt, typed once the agent can take input')
    .option('--policy-set <name>', 'Put the session under a policy set too (policy create --set); repeatable')
    .option('--dangerous', 'Run this one session WITHOUT POLICIES: every call allowed, each recorded in the audit trail (built-in guards stay)')
    .option('--worktree [branch]', 'Run in a new git worktree of the repository, on a new branch: this one, or one named after the session')
    .option('--host <name>', 'Run on another machine (codepiper host add), in a tmux server of its own there; -d is an absolute path on it');
  declareProviderFlags(start, flags);
  takesRest(
    start
      .option('--json', 'Print the new session as JSON')
      .usage('start -p <provider> [-d dir] [-n name] [--env NAME=VALUE]... [--secret NAME]... [--prompt TEXT] [--worktree [BRANCH]] [--dangerous] [-- command args...] | start -w <workspace> [-p provider] [...]')
      .example('  $ codepiper start -p shell -d ~/project -n build -- make test')
      .example('  $ codepiper start -p claude-code --model sonnet --env DEBUG=1')
      .example('  $ codepiper start -p claude-code --prompt "Run the tests and fix what fails"')
      .example('  $ codepiper start -p claude-code -d ~/new-checkout --trust --prompt "Run the tests"')
      .example('  $ codepiper start -p claude-code --billing api --secret ANTHROPIC_API_KEY')
      .example('  $ codepiper start -p claude-code -d ~/repo --worktree --prompt "Add a --json flag"    # its own checkout and branch')
      .example('  $ codepiper start -p claude-code -d ~/sandbox --dangerous    # no policies for this one session')
      .example('  $ codepiper start -w api --prompt "Fix the flaky test"    # the workspace’s directory and defaults')
      .action(async (options: StartOptions) => {
        const client = connect();
        const workspace = optionValue(options.workspace, '--workspace');
        if (workspace !== undefined && options.dir !== undefined) throw new UsageError('-w and -d go apart: a workspace has its directory (codepiper workspace update NAME --dir)');
        if (workspace !== undefined && options.worktree !== undefined) throw new UsageError('-w and --worktree go apart: the workspace says whether its sessions get worktrees (workspace update NAME --worktree)');
        const provider = optionValue(options.provider, '--provider') ?? (workspace === undefined ? undefined : ((await client.call(workspaceEndpoints.show, { params: { name: workspace } })).provider ?? undefined));
        if (!provider) throw new UsageError(workspace === undefined ? 'missing --provider (for example: -p shell)' : `workspace ${workspace} names no provider: add -p`);
        const envSetName = optionValue(options.envSet, '--env-set');
        const envSet = envSetName === undefined ? undefined : await client.call(envSetEndpoints.show, { params: { name: envSetName } });
        const { env, secrets } = overEnvSet(envSet, { env: parseEnv(optionValues(options.env, '--env')), secrets: parseSecretNames(optionValues(options.secret, '--secret')) });
        const policySets = optionValues(options.policySet, '--policy-set');
        const request: SessionStart = {
          provider,
          name: optionValue(options.name, '--name'),
          args: options['--'].length > 0 ? options['--'] : undefined,
          env,
          secrets,
          options: providerOptionValues(options, flags, provider),
          prompt: optionValue(options.prompt, '--prompt'),
          ...(policySets.length > 0 && { policySets }),
          ...(options.dangerous === true && { withoutPolicies: true }),
        };
        const host = optionValue(options.host, '--host');
        if (host !== undefined && workspace !== undefined) throw new UsageError('--host and -w go apart: a workspace is a directory on the daemon’s machine');
        const cwd = workspace === undefined ? await sessionDirectory(optionValue(options.dir, '--dir'), host) : undefined;
        const session =
          cwd === undefined
            ? await client.call(workspaceEndpoints.start, { params: { name: workspace! }, body: request })
            : await client.call(sessionEndpoints.start, { body: { ...request, cwd, worktree: worktreeValue(options.worktree), ...(host !== undefined && { host }) } });
        if (options.dangerous) process.stderr.write(`warning: session ${shortId(session.id)} runs without policies: every tool call is allowed (and recorded in the audit trail)\n`);
        printResult(session, options.json, (s) => `started ${shortId(s.id)} ${s.name} (${s.provider}) in ${s.cwd}${options.dangerous ? ', WITHOUT POLICIES' : ''}`);
      }),
  );

  if (!installed) {
    start.example('  (each provider’s own options are listed here while the daemon runs: codepiper daemon --detach)');
    // Without a daemon `start` fails for that, not for a provider's flag it cannot know.
    start.allowUnknownOptions();
  }

  cli
    .command('ls', 'List sessions, newest first (also: sessions)')
    .alias('sessions')
    .option('--status <status>', `Only sessions in this status: ${SESSION_STATUSES.join(', ')}`)
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper ls')
    .example('  $ codepiper ls --status waiting --json')
    .action(async (options: JsonOption & { status?: unknown }) => {
      const status = parseStatus(optionValue(options.status, '--status'));
      const result = await connect().call(sessionEndpoints.list, { query: { status } });
      const now = Date.now();
      printResult(result, options.json, ({ sessions }) =>
        sessions.length === 0
          ? 'no sessions'
          : formatTable(
              ['ID', 'NAME', 'PROVIDER', 'STATUS', 'AGE', 'CWD'],
              sessions.map((s) => sessionRow(s, now)),
            ),
      );
    });

  cli
    .command('show <id>', 'Show everything about a session')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper show ab12')
    .action(async (id: string, options: JsonOption) => {
      const client = connect();
      const session = await forSession(id, client.call(sessionEndpoints.show, { params: { id } }));
      const worktree = options.json ? undefined : await worktreeChanges(client, session.id);
      printResult(session, options.json, (s) => sessionFields(s, worktree ? worktreeFields(worktree) : []));
    });

  const endings = [
    { name: 'stop', endpoint: sessionEndpoints.stop, done: 'stopped', description: 'Ask a session’s program to end; it is killed if it does not' },
    { name: 'kill', endpoint: sessionEndpoints.kill, done: 'killed', description: 'End a session at once' },
    { name: 'resume', endpoint: sessionEndpoints.resume, done: 'resumed', description: 'Start a finished agent session again, continuing its conversation' },
  ];
  for (const { name, endpoint, done, description } of endings) {
    cli
      .command(`${name} <id>`, description)
      .option('--json', 'Print the session as JSON')
      .example(`  $ codepiper ${name} ab12`)
      .action(async (id: string, options: JsonOption) => {
        const session = await forSession(id, connect().call(endpoint, { params: { id } }));
        printResult(session, options.json, (s) => `${done} ${shortId(s.id)} ${s.name}: ${statusText(s)}`);
      });
  }

  cli
    .command('rm <id> [...more]', 'Forget finished sessions: their records go and their names are free again (their events stay)')
    .option('--json', 'Print the removed sessions as JSON')
    .example('  $ codepiper rm ab12 cd34')
    .action(async (id: string, more: string[], options: JsonOption) => {
      const client = connect();
      const removed: SessionRecord[] = [];
      for (const ref of [id, ...more]) removed.push(await forSession(ref, client.call(sessionEndpoints.remove, { params: { id: ref } })));
      printResult({ removed }, options.json, (r) => r.removed.map((s) => `removed ${shortId(s.id)} ${s.name}`).join('\n'));
    });

  cli
    .command('prune', 'Forget every finished session')
    .option('--json', 'Print the removed sessions as JSON')
    .example('  $ codepiper prune')
    .action(async (options: JsonOption) => {
      const result = await connect().call(sessionEndpoints.prune);
      printResult(result, options.json, (r) =>
        [
          r.removed.length === 0 && r.kept.length === 0 ? 'no finished sessions' : `removed ${r.removed.length} finished session${r.removed.length === 1 ? '' : 's'}`,
          ...r.kept.map(({ session, reason }) => `kept ${shortId(session.id)} ${session.name}: ${reason}`),
        ].join('\n'),
      );
    });

  cli
    .command('rename <id> <name>', 'Rename a session')
    .option('--json', 'Print the session as JSON')
    .example('  $ codepiper rename ab12 "fix login bug"')
    .action(async (id: string, name: string, options: JsonOption) => {
      const session = await forSession(id, connect().call(sessionEndpoints.rename, { params: { id }, body: { name } }));
      printResult(session, options.json, (s) => `renamed ${shortId(s.id)} to ${s.name}`);
    });
}
