import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CAC } from 'cac';
import { envSetEndpoints, overEnvSet, workspaceEndpoints, type WorkspaceStart } from '@codepiper/workspaces-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { optionValue, optionValues, parseEnv, parseSecretNames } from '../args.js';
import { firstWord, takesRest } from '../command-line.js';
import { activeRemote, connect } from '../client.js';
import { UsageError } from '../errors.js';
import { shortId } from '../format.js';
import { printResult } from '../output.js';
import { declareProviderFlags, installedProviderFlags, providerOptionValues } from '../provider-flags.js';

interface StartOptions {
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
  json?: boolean;
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

/** `start`, a group of its own: its workspaces, env sets and provider flags are nothing the other session commands load. */
export async function registerStartCommand(cli: CAC, argv: readonly string[]): Promise<void> {
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
}
