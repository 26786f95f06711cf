import path from 'node:path';
import type { CAC } from 'cac';
import { envSetEndpoints, workspaceEndpoints, type EnvSet, type Workspace } from '@codepiper/workspaces-contract';
import { optionValue, optionValues, parseEnv, parseSecretNames } from '../args.js';
import { withActions } from '../command-line.js';
import { connect } from '../client.js';
import { UsageError } from '../errors.js';
import { formatFields, formatTable } from '../format.js';
import { print, printJson, printResult } from '../output.js';

interface WorkspaceOptions {
  json?: boolean;
  provider?: unknown;
  envSet?: unknown;
  policySet?: unknown;
  dir?: unknown;
  worktree?: boolean;
}

interface EnvSetOptions {
  json?: boolean;
  secret?: unknown;
}

const workspaceFields = (w: Workspace): string =>
  formatFields([
    ['name', w.name],
    ['dir', w.dir],
    ['provider', w.provider ?? '- (start -w needs -p)'],
    ['env set', w.envSet ?? '-'],
    ['policy set', w.policySet ?? '-'],
    ['worktree', w.worktree ? 'yes: each session in a git worktree of its own' : 'no'],
    ['created', w.createdAt],
    ['updated', w.updatedAt],
  ]);

const envSetFields = (s: EnvSet): string =>
  formatFields([
    ['name', s.name],
    ...Object.entries(s.env).map(([name, value]): [string, string] => [`env ${name}`, value]),
    ['secrets', s.secrets.length > 0 ? s.secrets.join(', ') : '-'],
    ['updated', s.updatedAt],
  ]);

/** `--provider none` / `--env-set none` remove a default; absent leaves it as it is. */
const orNone = (value: string | undefined): string | null | undefined => (value === 'none' ? null : value);

function needName(what: string, action: string, name: string | undefined): string {
  if (name === undefined) throw new UsageError(`${what} ${action} needs a NAME`);
  return name;
}

/** `rm NAME`: removes it, then says so (`--json`: `{"ok": true}`). */
async function remove(what: string, name: string, call: (name: string) => Promise<unknown>, json: boolean | undefined): Promise<void> {
  await call(name);
  if (json) printJson({ ok: true });
  else print(`removed ${what} ${name}`);
}

export function registerWorkspaceCommands(cli: CAC): void {
  withActions(cli.command('workspace <action> [name] [dir]', 'Workspaces: a directory and its sessions’ defaults (provider, env set, policy set, worktree); add, list, show, update, rm'), ['add', 'list', 'show', 'update', 'rm'])
    .usage('workspace add NAME DIR [--provider P] [--env-set S] [--policy-set S] [--worktree] | workspace update NAME [--dir D] [--provider P|none] [--env-set S|none] [--policy-set S|none] [--worktree|--no-worktree] | workspace list|show|rm')
    .option('--provider <provider>', 'Provider of its sessions (update: none removes it)')
    .option('--env-set <name>', 'Env set its sessions get (codepiper env-set; update: none removes it)')
    .option('--policy-set <name>', 'Policy set its sessions are under (policy create --set; update: none removes it)')
    .option('--dir <dir>', 'With update: another directory')
    .option('--worktree', 'Each session in a git worktree of its own (update: --no-worktree turns it off)')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper workspace add api ~/src/api --provider claude-code --env-set dev --policy-set strict --worktree')
    .example('  $ codepiper start -w api --prompt "Fix the flaky test"')
    .example('  $ codepiper workspace update api --env-set none')
    .action(async (action: string, name: string | undefined, dir: string | undefined, options: WorkspaceOptions) => {
      const client = connect();
      if (dir !== undefined && action !== 'add') throw new UsageError(`workspace ${action} takes no DIR${action === 'update' ? ' (use --dir)' : ''}`);
      switch (action) {
        case 'add': {
          const provider = optionValue(options.provider, '--provider');
          const envSet = optionValue(options.envSet, '--env-set');
          const policySet = optionValue(options.policySet, '--policy-set');
          if (dir === undefined) throw new UsageError('workspace add needs a NAME and a DIR');
          const body = { name: needName('workspace', action, name), dir: path.resolve(dir), ...(provider && { provider }), ...(envSet && { envSet }), ...(policySet && { policySet }), ...(options.worktree && { worktree: true }) };
          printResult(await client.call(workspaceEndpoints.create, { body }), options.json, (w) => `added workspace ${w.name} (${w.dir})`);
          return;
        }
        case 'update': {
          const newDir = optionValue(options.dir, '--dir');
          const body = {
            ...(newDir !== undefined && { dir: path.resolve(newDir) }),
            ...(options.provider !== undefined && { provider: orNone(optionValue(options.provider, '--provider')) }),
            ...(options.envSet !== undefined && { envSet: orNone(optionValue(options.envSet, '--env-set')) }),
            ...(options.policySet !== undefined && { policySet: orNone(optionValue(options.policySet, '--policy-set')) }),
            ...(options.worktree !== undefined && { worktree: options.worktree }),
          };
          if (Object.keys(body).length === 0) throw new UsageError('workspace update needs something to change: --dir, --provider, --env-set, --policy-set, --worktree or --no-worktree');
          printResult(await client.call(workspaceEndpoints.update, { params: { name: needName('workspace', action, name) }, body }), options.json, workspaceFields);
          return;
        }
        case 'list':
        case 'ls': {
          const result = await client.call(workspaceEndpoints.list);
          printResult(result, options.json, ({ workspaces }) =>
            workspaces.length === 0 ? 'no workspaces (add one: codepiper workspace add NAME DIR)' : formatTable(['NAME', 'PROVIDER', 'ENV SET', 'POLICY SET', 'WORKTREE', 'DIR'], workspaces.map((w) => [w.name, w.provider ?? '-', w.envSet ?? '-', w.policySet ?? '-', w.worktree ? 'yes' : 'no', w.dir])),
          );
          return;
        }
        case 'show':
          printResult(await client.call(workspaceEndpoints.show, { params: { name: needName('workspace', action, name) } }), options.json, workspaceFields);
          return;
        case 'rm':
        case 'delete':
          return remove('workspace', needName('workspace', action, name), (checked) => client.call(workspaceEndpoints.remove, { params: { name: checked } }), options.json);
        default:
          throw new UsageError(`unknown workspace action "${action}"; use add, list, show, update or rm`);
      }
    });

  withActions(cli.command('env-set <action> [name] [...vars]', 'Named env sets for sessions and workspaces: set NAME VAR=VALUE... [--secret NAME]..., list, show, rm'), ['set', 'list', 'show', 'rm'])
    .usage('env-set set NAME [VAR=VALUE]... [--secret NAME]... | env-set list | env-set show NAME | env-set rm NAME')
    .option('--secret <NAME>', 'With set: a named secret (codepiper secret set) put into the environment as NAME; its value stays in the secret store; repeatable')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper env-set set dev NODE_ENV=development LOG_LEVEL=debug --secret GITHUB_TOKEN')
    .example('  $ codepiper start -p shell --env-set dev')
    .action(async (action: string, name: string | undefined, vars: string[], options: EnvSetOptions) => {
      const client = connect();
      if (action !== 'set' && vars.length > 0) throw new UsageError(`env-set ${action} takes only a NAME`);
      switch (action) {
        case 'set': {
          const env = parseEnv(vars, 'VAR=VALUE');
          const secrets = parseSecretNames(optionValues(options.secret, '--secret'));
          const set = await client.call(envSetEndpoints.put, { params: { name: needName('env-set', action, name) }, body: { ...(env && { env }), ...(secrets && { secrets }) } });
          printResult(set, options.json, (s) => `saved env set ${s.name}: ${Object.keys(s.env).length} variables, ${s.secrets.length} secrets`);
          return;
        }
        case 'list':
        case 'ls': {
          const result = await client.call(envSetEndpoints.list);
          printResult(result, options.json, ({ envSets }) =>
            envSets.length === 0 ? 'no env sets' : formatTable(['NAME', 'VARIABLES', 'SECRETS'], envSets.map((s) => [s.name, Object.keys(s.env).join(', ') || '-', s.secrets.join(', ') || '-'])),
          );
          return;
        }
        case 'show':
          printResult(await client.call(envSetEndpoints.show, { params: { name: needName('env-set', action, name) } }), options.json, envSetFields);
          return;
        case 'rm':
        case 'delete':
          return remove('env set', needName('env-set', action, name), (checked) => client.call(envSetEndpoints.remove, { params: { name: checked } }), options.json);
        default:
          throw new UsageError(`unknown env-set action "${action}"; use set, list, show or rm`);
      }
    });
}
