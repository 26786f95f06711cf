import type { CAC } from 'cac';
import { secretEndpoints, SECRET_NAME_PATTERN } from '@codepiper/secrets-contract';
import { connect } from '../client.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../format.js';
import { print, printResult } from '../output.js';
import { readSecretInput } from '../stdin.js';
import { withActions } from '../command-line.js';

const NAME = new RegExp(SECRET_NAME_PATTERN);

function secretName(action: string, name: string | undefined): string {
  if (name === undefined) throw new UsageError(`secret ${action} needs a NAME`);
  if (!NAME.test(name)) throw new UsageError(`"${name}" is not a secret name: letters, digits and _, not starting with a digit (it becomes an environment variable)`);
  return name;
}

export function registerSecretCommands(cli: CAC): void {
  withActions(cli.command('secret <action> [name]', 'Named secrets, encrypted at rest: set NAME (value from stdin), list, rm NAME'), ['set', 'list', 'rm'])
    .usage('secret set NAME < file | secret list [--json] | secret rm NAME')
    .option('--json', 'With list: print the API response as JSON')
    .example('  $ codepiper secret set ANTHROPIC_API_KEY          # type it (not echoed), then Enter')
    .example('  $ printf %s "$TOKEN" | codepiper secret set GITHUB_TOKEN')
    .example('  $ codepiper start -p shell --secret GITHUB_TOKEN')
    .action(async (action: string, name: string | undefined, options: { json?: boolean }) => {
      const client = connect();
      switch (action) {
        case 'set': {
          const checked = secretName(action, name);
          const value = await readSecretInput(`value of ${checked}: `);
          const result = await client.call(secretEndpoints.set, { params: { name: checked }, body: { value } });
          print(`${result.created ? 'stored' : 'replaced'} secret ${checked}`);
          return;
        }
        case 'list':
        case 'ls': {
          if (name !== undefined) throw new UsageError('secret list takes no NAME');
          const result = await client.call(secretEndpoints.list);
          printResult(result, options.json, ({ secrets }) =>
            secrets.length === 0 ? 'no secrets' : formatTable(['NAME', 'CREATED', 'UPDATED'], secrets.map((s) => [s.name, s.createdAt, s.updatedAt])),
          );
          return;
        }
        case 'rm':
        case 'delete': {
          const checked = secretName(action, name);
          await client.call(secretEndpoints.remove, { params: { name: checked } });
          print(`deleted secret ${checked}`);
          return;
        }
        default:
          throw new UsageError(`unknown secret action "${action}"; use set, list or rm`);
      }
    });
}
