import { cac, type CAC } from 'cac';
import { CODEPIPER_VERSION } from '@codepiper/sdk';
import { acceptsRest, protectWords, unprotect } from './args.js';
import { registerAgentCommands } from './commands/agent.js';
import { registerAnalyticsCommands } from './commands/analytics.js';
import { registerAuthCommands } from './commands/auth.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerDaemonCommands } from './commands/daemon.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerEventCommands } from './commands/events.js';
import { registerIoCommands } from './commands/io.js';
import { registerNotificationCommands } from './commands/notifications.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerSecretCommands } from './commands/secret.js';
import { registerSessionCommands } from './commands/sessions.js';
import { registerWorkflowCommands } from './commands/workflow.js';
import { UsageError } from './errors.js';
import { print, reportError } from './output.js';

export function createProgram(): CAC {
  const cli = cac('codepiper');
  registerDaemonCommands(cli);
  registerDoctorCommand(cli);
  registerSessionCommands(cli);
  registerIoCommands(cli);
  registerEventCommands(cli);
  registerAgentCommands(cli);
  registerWorkflowCommands(cli);
  registerPolicyCommands(cli);
  registerAnalyticsCommands(cli);
  registerSecretCommands(cli);
  registerAuthCommands(cli);
  registerNotificationCommands(cli);
  registerCompletionCommand(cli);
  // cac pads every option line for a default it may not have: drop trailing spaces.
  cli.help((sections) => sections.map((section) => ({ ...section, body: section.body.replace(/ +$/gm, '') })));
  cli.version(CODEPIPER_VERSION);
  cli.showVersionOnExit = false; // cac would add the platform; `--version` prints the bare version
  return cli;
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const cli = createProgram();
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
    return reportError(error, command ? `codepiper ${command.name} --help` : 'codepiper --help');
  }
}
