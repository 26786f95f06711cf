import os from 'node:os';
import type { CAC } from 'cac';
import { ApiError, daemonEndpoints, type ApiErrorBody } from '@codepiper/sdk';
import { remoteClient } from '../client.js';
import { withActions } from '../command-line.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../format.js';
import { print, printJson, printResult } from '../output.js';
import { listRemotes, removeRemote, saveRemote, useRemote } from '../remotes.js';
import { readAll, readSecretInput } from '../stdin.js';

interface RemoteOptions {
  json?: boolean;
  tokenStdin?: boolean;
}

/** A remote's origin, from what the user typed: http(s), a host, perhaps a port; nothing after. */
function originOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`"${url}" is not a URL (like https://devbox:8443)`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError(`a remote is reached over https (or http on a trusted network), not ${parsed.protocol}`);
  return parsed.origin;
}

/** The message of an error answer from the daemon, as JSON, or its status. */
async function refusalOf(response: Response): Promise<string> {
  const body = (await response.json().catch(() => undefined)) as ApiErrorBody | undefined;
  return body?.error?.message ?? `HTTP ${response.status}`;
}

/**
 * Signs in with the password and a TOTP code (both asked on the terminal, or
 * two lines on stdin), makes an access token for this CLI, and signs out: the
 * token is all that is kept.
 */
async function tokenBySignIn(origin: string): Promise<string> {
  const [password, code] = process.stdin.isTTY ? [await readSecretInput('password: '), await readSecretInput('TOTP code: ')] : (await readAll()).split(/\r?\n/);
  if (!password || !code) throw new UsageError('sign-in needs the password and a TOTP code (or give a token: --token-stdin)');
  const json = { 'content-type': 'application/json', origin };
  const login = await fetch(`${origin}/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ password, code: code.trim() }) });
  if (!login.ok) throw new Error(`sign-in refused: ${await refusalOf(login)}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  try {
    const created = await fetch(`${origin}/auth/tokens`, { method: 'POST', headers: { ...json, cookie }, body: JSON.stringify({ name: `codepiper CLI on ${os.hostname()}` }) });
    if (!created.ok) throw new Error(`could not make an access token: ${await refusalOf(created)}`);
    return ((await created.json()) as { token: string }).token;
  } finally {
    await fetch(`${origin}/auth/logout`, { method: 'POST', headers: { origin, cookie } }).catch(() => undefined);
  }
}

export function registerRemoteCommands(cli: CAC): void {
  withActions(cli.command('remote <action> [name] [url]', 'Daemons on other machines this CLI can drive (like docker context): add, list, use, rm'), ['add', 'list', 'use', 'rm'])
    .usage('remote add NAME https://host:port [--token-stdin] | remote list | remote use NAME|local | remote rm NAME')
    .option('--token-stdin', 'With add: read an access token (codepiper auth token create, on that machine) from stdin, instead of signing in with the password and a TOTP code')
    .option('--json', 'Print the result as JSON')
    .example('  $ codepiper remote add devbox https://devbox:8443           # password and TOTP code, once')
    .example('  $ ssh devbox codepiper auth token create laptop | codepiper remote add devbox https://devbox:8443 --token-stdin')
    .example('  $ codepiper --remote devbox ls')
    .example('  $ codepiper remote use devbox        # every command goes there; back with: remote use local')
    .action(async (action: string, name: string | undefined, url: string | undefined, options: RemoteOptions) => {
      if (url !== undefined && action !== 'add') throw new UsageError(`remote ${action} takes ${action === 'list' ? 'nothing' : 'only a NAME'}`);
      switch (action) {
        case 'add': {
          if (name === undefined || url === undefined) throw new UsageError('remote add needs a NAME and the daemon’s URL (https://host:port)');
          if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) || name === 'local') throw new UsageError(`"${name}" cannot name a remote: letters, digits, . _ - (and not "local")`);
          const origin = originOf(url);
          const token = options.tokenStdin ? await readSecretInput('access token: ') : await tokenBySignIn(origin);
          // Kept only once it has answered, signed in.
          const status = await remoteClient({ url: origin, token }).call(daemonEndpoints.status).catch((error: unknown) => {
            throw error instanceof ApiError ? new Error(`${origin} refused the token: ${error.message}`) : error;
          });
          saveRemote({ name, url: origin, token });
          printResult({ name, url: origin, version: status.version }, options.json, (r) => `added remote ${r.name} (${r.url}, CodePiper ${r.version}): use it with --remote ${r.name}, or for every command: codepiper remote use ${r.name}`);
          return;
        }
        case 'list':
        case 'ls': {
          const { current, remotes } = listRemotes();
          printResult({ current, remotes }, options.json, () =>
            remotes.length === 0 ? 'no remotes (add one: codepiper remote add NAME https://host:port)' : formatTable(['NAME', 'URL', 'IN USE'], remotes.map((r) => [r.name, r.url, r.name === current ? 'yes' : ''])),
          );
          return;
        }
        case 'use': {
          if (name === undefined) throw new UsageError('remote use needs a NAME, or local');
          useRemote(name === 'local' ? null : name);
          if (options.json) printJson({ current: name === 'local' ? null : name });
          else print(name === 'local' ? 'commands go to the daemon on this machine' : `commands go to ${name} (back: codepiper remote use local)`);
          return;
        }
        case 'rm':
        case 'remove': {
          if (name === undefined) throw new UsageError('remote rm needs a NAME');
          removeRemote(name);
          if (options.json) printJson({ ok: true });
          else print(`removed remote ${name} (its token still works until revoked there: codepiper auth token revoke)`);
          return;
        }
        default:
          throw new UsageError(`unknown remote action "${action}"; use add, list, use or rm`);
      }
    });
}
