import { cac, type CAC, type Command } from 'cac';
import { ApiError, CODEPIPER_VERSION, daemonEndpoints } from '@codepiper/sdk';
import { chooseRemote, connect, unlessNoDaemon } from './client.js';
import { acceptsRest, firstWord, protectWords, unprotect } from './command-line.js';
import { registerContributedCommands } from './contributed-commands.js';
import { UsageError } from './errors.js';
import { print, reportError } from './output.js';

/** Adds a group's commands; `argv` is the command line, for a group whose commands depend on what the daemon has installed. */
type Register = (cli: CAC, argv: readonly string[]) => void | Promise<void>;

/**
 * The commands, one group per module. A command line loads only the group its
 * first word names (each group pulls in its own part of the SDK and nothing
 * else); help, completion and anything unrecognised load them all.
 */
interface CommandGroup {
  /** The first words of its commands: names and aliases (checked against what it registers by a test). */
  readonly words: readonly string[];
  /** The daemon plugin whose API its commands use; they are hidden from help when the daemon has not loaded it. */
  readonly plugin?: string;
  readonly load: () => Promise<Register>;
}

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  { words: ['daemon', 'backup'], load: async () => (await import('./commands/daemon.js')).registerDaemonCommands },
  { words: ['doctor'], load: async () => (await import('./commands/doctor.js')).registerDoctorCommand },
  { words: ['start'], load: async () => (await import('./commands/start.js')).registerStartCommand },
  { words: ['ls', 'sessions', 'show', 'stop', 'kill', 'resume', 'rm', 'prune', 'rename'], load: async () => (await import('./commands/sessions.js')).registerSessionCommands },
  { words: ['send', 'keys', 'output', 'tail', 'attach'], load: async () => (await import('./commands/io.js')).registerIoCommands },
  { words: ['events'], load: async () => (await import('./commands/events.js')).registerEventCommands },
  { words: ['transcript', 'model'], load: async () => (await import('./commands/agent.js')).registerAgentCommands },
  { words: ['workflow'], plugin: 'workflows', load: async () => (await import('./commands/workflow.js')).registerWorkflowCommands },
  { words: ['approvals', 'approve', 'deny', 'policy'], plugin: 'policies', load: async () => (await import('./commands/policy.js')).registerPolicyCommands },
  { words: ['diff', 'merge', 'discard', 'worktrees'], plugin: 'worktrees', load: async () => (await import('./commands/worktrees.js')).registerWorktreeCommands },
  { words: ['workspace', 'env-set'], plugin: 'workspaces', load: async () => (await import('./commands/workspaces.js')).registerWorkspaceCommands },
  { words: ['host'], plugin: 'hosts', load: async () => (await import('./commands/hosts.js')).registerHostCommands },
  { words: ['remote'], load: async () => (await import('./commands/remote.js')).registerRemoteCommands },
  { words: ['audit'], plugin: 'audit', load: async () => (await import('./commands/audit.js')).registerAuditCommand },
  { words: ['analytics'], plugin: 'analytics', load: async () => (await import('./commands/analytics.js')).registerAnalyticsCommands },
  { words: ['secret'], plugin: 'secrets', load: async () => (await import('./commands/secret.js')).registerSecretCommands },
  { words: ['auth'], plugin: 'auth', load: async () => (await import('./commands/auth.js')).registerAuthCommands },
  { words: ['notifications'], plugin: 'notifications', load: async () => (await import('./commands/notifications.js')).registerNotificationCommands },
  // Last: it completes every command registered before it.
  { words: ['completion'], load: async () => (await import('./commands/completion.js')).registerCompletionCommand },
];

/** The groups a command line needs: none for a bare `--version`, one for a known command, else all. */
function groupsFor(argv: readonly string[]): readonly CommandGroup[] {
  const first = firstWord(argv);
  if (first === undefined) return argv.some((arg) => arg === '--version' || arg === '-v') && !argv.some((arg) => arg === '--help' || arg === '-h') ? [] : COMMAND_GROUPS;
  const group = COMMAND_GROUPS.find((g) => g.words.includes(first));
  return group === undefined || first === 'completion' ? COMMAND_GROUPS : [group];
}

/** The plugins the running daemon has loaded; undefined when none answers. */
const loadedPlugins = async (): Promise<Set<string> | undefined> => {
  const status = await unlessNoDaemon(() => connect().call(daemonEndpoints.status));
  return status && new Set(status.plugins.map((plugin) => plugin.name));
};

/** Which group registered each command, for the plugin it needs. */
const groupOfCommand = new WeakMap<Command, CommandGroup>();

const isAvailable = (command: Command, loaded: ReadonlySet<string>): boolean => {
  const plugin = groupOfCommand.get(command)?.plugin;
  return plugin === undefined || loaded.has(plugin);
};

/** The program with the commands `argv` may run (all of them without `argv`). */
export async function createProgram(argv?: readonly string[]): Promise<CAC> {
  const cli = cac('codepiper');
  const groups = argv === undefined ? COMMAND_GROUPS : groupsFor(argv);
  const registers = await Promise.all(groups.map((group) => group.load()));
  for (const [i, register] of registers.entries()) {
    const before = cli.commands.length;
    await register(cli, argv ?? []);
    for (const command of cli.commands.slice(before)) groupOfCommand.set(command, groups[i]!);
  }
  // A word no built-in command has, or the general help: perhaps a command a plugin of the running daemon adds,
  // and no command of a plugin it has not loaded.
  if (argv !== undefined && groups === COMMAND_GROUPS && firstWord(argv) !== 'completion') {
    const [loaded] = await Promise.all([loadedPlugins(), registerContributedCommands(cli)]);
    if (loaded) cli.commands = cli.commands.filter((command) => isAvailable(command, loaded));
  }
  // cac pads every option line for a default it may not have: drop trailing spaces.
  cli.help((sections) => sections.map((section) => ({ ...section, body: section.body.replace(/ +$/gm, '') })));
  cli.option('--remote <name>', 'Talk to the daemon of another machine (codepiper remote add); default: the one `remote use` chose, or this machine’s');
  cli.version(CODEPIPER_VERSION);
  cli.showVersionOnExit = false; // cac would add the platform; `--version` prints the bare version
  return cli;
}

/**
 * `--remote NAME` (`--remote=NAME`), anywhere before `--`, taken out of the
 * command line: it says which daemon every command talks to, not what one does.
 */
function takeRemote(argv: readonly string[]): { rest: string[]; remote?: string } {
  const end = argv.indexOf('--') === -1 ? argv.length : argv.indexOf('--');
  const rest = [...argv];
  for (let i = 0; i < end; i++) {
    const arg = rest[i]!;
    if (arg !== '--remote' && !arg.startsWith('--remote=')) continue;
    const remote = arg === '--remote' ? rest[i + 1] : arg.slice('--remote='.length);
    if (!remote || remote.startsWith('-')) throw new UsageError('--remote needs a NAME (see: codepiper remote list)');
    rest.splice(i, arg === '--remote' ? 2 : 1);
    return { rest, remote };
  }
  return { rest };
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function run(commandLine: readonly string[]): Promise<number> {
  let argv: readonly string[];
  try {
    const { rest, remote } = takeRemote(commandLine);
    chooseRemote(remote);
    argv = rest;
  } catch (error) {
    return reportError(error, 'codepiper --help');
  }
  const cli = await createProgram(argv);
  cli.parse(['node', 'codepiper', ...protectWords(argv)], { run: false });
  cli.args = unprotect(cli.args);
  cli.options = unprotect(cli.options);
  if (cli.options.help) return 0; // cac has printed the help
  const command = cli.matchedCommand;
  try {
    if (!command) {
      cli.globalCommand.checkUnknownOptions();
      if (cli.options.version) print(CODEPIPER_VERSION);
      else if (cli.args.length === 0) cli.outputHelp();
      else throw new UsageError(`unknown command "${cli.args[0]}"`);
      return 0;
    }
    const rest = cli.options['--'] as string[];
    if (rest.length > 0 && !acceptsRest(command)) throw new UsageError(`unexpected arguments after "--": ${rest.join(' ')}`);
    return ((await cli.runMatchedCommand()) as number | undefined) ?? 0;
  } catch (error) {
    return reportError(await unlessPluginMissing(error, command && groupOfCommand.get(command)?.plugin), command ? `codepiper ${command.name} --help` : 'codepiper --help');
  }
}

/** A 404 to a command whose plugin the daemon has not loaded says so; any other error is the same error. */
async function unlessPluginMissing(error: unknown, plugin: string | undefined): Promise<unknown> {
  if (!(error instanceof ApiError && error.status === 404) || plugin === undefined) return error;
  const loaded = await loadedPlugins().catch(() => undefined);
  return loaded && !loaded.has(plugin) ? new Error(`this daemon has not loaded the ${plugin} plugin (see disabled_plugins in its config.yaml)`) : error;
}
