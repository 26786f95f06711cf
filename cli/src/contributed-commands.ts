import type { CAC } from 'cac';
import { ApiError, contributionEndpoints, type ContributedCommand } from '@codepiper/sdk';
import { connect, unlessNoDaemon } from './client.js';
import { declareFieldFlag, fieldValues } from './field-flags.js';
import { formatAnswer } from './format.js';
import { printResult } from './output.js';

/** The commands the daemon's plugins add; none when no daemon answers (or one too old to say). */
async function contributedCommands(): Promise<ContributedCommand[]> {
  const tooOld = (error: unknown) => (error instanceof ApiError && error.status === 404 ? { commands: [] } : Promise.reject(error));
  return (await unlessNoDaemon(() => connect().call(contributionEndpoints.list).catch(tooOld)))?.commands ?? [];
}

/** Adds the plugins' commands whose names no built-in command has. */
export async function registerContributedCommands(cli: CAC): Promise<void> {
  const taken = new Set(cli.commands.flatMap((command) => [command.name, ...command.aliasNames]));
  for (const contributed of (await contributedCommands()).filter((c) => !taken.has(c.name))) {
    const command = cli.command([contributed.name, ...contributed.arguments.map((name) => `<${name}>`)].join(' '), `${contributed.description} (plugin ${contributed.plugin})`);
    for (const field of contributed.flags) declareFieldFlag(command, field, field.description || field.key);
    command.option('--json', 'Print the answer as JSON');
    for (const example of contributed.examples) command.example(`  $ ${example}`);
    command.action(async (...args: unknown[]) => {
      const options = args.at(-1) as Record<string, unknown> & { json?: boolean };
      const params = Object.fromEntries(contributed.arguments.map((name, i) => [name, args[i]]));
      const answer = await connect().get(contributed.url, params, fieldValues(options, contributed.flags));
      printResult(answer, options.json, formatAnswer);
    });
  }
}
