import path from 'node:path';
import type { CAC } from 'cac';
import { hostEndpoints, type HostListing } from '@codepiper/hosts-contract';
import { optionValue } from '../args.js';
import { withActions } from '../command-line.js';
import { connect } from '../client.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../format.js';
import { print, printJson, printResult } from '../output.js';

interface HostOptions {
  json?: boolean;
  port?: unknown;
  identity?: unknown;
}

/** What was found on a host, for the list: the tmux version and each agent CLI's, `-` for what is not there. */
const found = (version: string | null | undefined): string => version ?? '-';

function hostRow(host: HostListing): string[] {
  const { probe } = host;
  const where = `${host.destination}${host.port === null ? '' : `:${host.port}`}`;
  if (probe === null) return [host.name, where, '?', '-', '-', '-', '-', '-', 'not checked'];
  if (!probe.reachable) return [host.name, where, 'no', '-', '-', '-', '-', '-', probe.error ?? ''];
  return [host.name, where, 'yes', `${probe.latencyMs} ms`, found(probe.tmux), found(probe.agents.claude), found(probe.agents.codex), found(probe.agents.gemini), ''];
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new UsageError(`--port takes a port number (1-65535), not "${value}"`);
  return port;
}

export function registerHostCommands(cli: CAC): void {
  withActions(cli.command('host <action> [name] [destination]', 'Machines sessions can reach over SSH: add, list (reachable, latency, tmux and agent CLIs there), rm'), ['add', 'list', 'rm'])
    .usage('host add NAME user@host [--port P] [--identity FILE] | host list | host rm NAME')
    .option('--port <port>', 'With add: the SSH port (else ssh’s own: 22, or your ssh config’s)')
    .option('--identity <file>', 'With add: a private key file (else the keys of your ssh agent and config); only its path is kept')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper host add devbox me@devbox.local')
    .example('  $ codepiper host add gpu ubuntu@10.0.0.7 --port 2222 --identity ~/.ssh/gpu_ed25519')
    .example('  $ codepiper host list')
    .example('  (host keys are checked against ~/.ssh/known_hosts: connect once with ssh to verify a new host’s fingerprint)')
    .action(async (action: string, name: string | undefined, destination: string | undefined, options: HostOptions) => {
      const client = connect();
      if (destination !== undefined && action !== 'add') throw new UsageError(`host ${action} takes only a NAME`);
      switch (action) {
        case 'add': {
          if (name === undefined || destination === undefined) throw new UsageError('host add needs a NAME and a destination (user@host)');
          const port = parsePort(optionValue(options.port, '--port'));
          const identity = optionValue(options.identity, '--identity');
          const body = { name, destination, ...(port !== undefined && { port }), ...(identity !== undefined && { identity: path.resolve(identity) }) };
          printResult(await client.call(hostEndpoints.add, { body }), options.json, (h) => `added host ${h.name} (${h.destination}): reached in ${h.probe.latencyMs} ms, ${h.probe.tmux ?? 'no tmux found'}`);
          return;
        }
        case 'list':
        case 'ls': {
          if (name !== undefined) throw new UsageError('host list takes no NAME');
          const result = await client.call(hostEndpoints.list, { query: {} });
          printResult(result, options.json, ({ hosts }) =>
            hosts.length === 0
              ? 'no hosts (add one: codepiper host add NAME user@host)'
              : formatTable(['NAME', 'DESTINATION', 'REACHABLE', 'LATENCY', 'TMUX', 'CLAUDE', 'CODEX', 'GEMINI', 'ERROR'], hosts.map(hostRow)),
          );
          return;
        }
        case 'rm':
        case 'remove': {
          if (name === undefined) throw new UsageError('host rm needs a NAME');
          await client.call(hostEndpoints.remove, { params: { name } });
          if (options.json) printJson({ ok: true });
          else print(`removed host ${name}`);
          return;
        }
        default:
          throw new UsageError(`unknown host action "${action}"; use add, list or rm`);
      }
    });
}
