import type { CAC } from 'cac';
import { authEndpoints, MIN_PASSWORD_LENGTH, tokenExpired, type AccessToken, type AuthStatus, type TokenScope, type WebSession } from '@codepiper/auth-contract';
import type { ApiClient } from '@codepiper/sdk';
import { optionValue } from '../args.js';
import { connect } from '../client.js';
import { UsageError } from '../errors.js';
import { formatFields, formatTable } from '../format.js';
import { print, printResult } from '../output.js';
import { readSecretInput } from '../stdin.js';
import { withActions } from '../command-line.js';

const statusFields = (s: AuthStatus): string =>
  formatFields([
    ['password', s.passwordSet ? 'set' : 'not chosen yet (first run: sign in with the bootstrap password)'],
    ['totp', s.mfaEnrolled ? 'enrolled' : 'not enrolled (the next sign-in enrolls it)'],
    ['recovery codes', String(s.recoveryCodesLeft)],
    ['failed sign-ins', String(s.failedAttempts)],
    ['locked until', s.lockedUntil ?? '-'],
    ['web sessions', String(s.sessions)],
  ]);

const sessionRow = (s: WebSession): string[] => [s.id, s.stage, s.address, s.createdAt, s.lastSeenAt, s.expiresAt, s.userAgent.slice(0, 40) || '-'];

/** When a token stops working: never, a time, or `expired TIME` once past (it is refused, and kept listed until revoked). */
const expiry = (t: AccessToken, now: number): string => (t.expiresAt === null ? 'never' : tokenExpired(t.expiresAt, now) ? `expired ${t.expiresAt}` : t.expiresAt);

const tokenRow = (t: AccessToken, now: number): string[] => [t.id.slice(0, 8), t.name, t.scope, t.createdAt, expiry(t, now), t.lastUsedAt ?? '-'];

const ACTIONS = 'status, sessions, revoke ID|all, token create|list|revoke, reset-password, reset-mfa';

interface AuthOptions {
  json?: boolean;
  scope?: unknown;
  expires?: unknown;
}

function parseScope(value: string | undefined): TokenScope | undefined {
  if (value === undefined || value === 'read' || value === 'full') return value;
  throw new UsageError(`--scope takes read or full, not "${value}"`);
}

function parseDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)d?$/.exec(value);
  const days = Number(match?.[1]);
  if (!match || days < 1 || days > 3650) throw new UsageError(`--expires takes a number of days (1 to 3650, like 90 or 90d), not "${value}"`);
  return days;
}

/** `auth token create NAME | list | revoke ID`: personal access tokens for CLIs and scripts on other machines. */
async function tokenAction(client: ApiClient, [action, ref, ...extra]: string[], options: AuthOptions): Promise<void> {
  if (extra.length > 0) throw new UsageError(`auth token ${action} takes at most one argument`);
  switch (action) {
    case 'create': {
      if (ref === undefined) throw new UsageError('auth token create needs a NAME: what the token is for (the machine or script holding it)');
      const scope = parseScope(optionValue(options.scope, '--scope'));
      const expiresInDays = parseDays(optionValue(options.expires, '--expires'));
      const created = await client.call(authEndpoints.createToken, { body: { name: ref, ...(scope && { scope }), ...(expiresInDays && { expiresInDays }) } });
      printResult(created, options.json, (t) =>
        [`${t.token}`, '', `access token ${t.id.slice(0, 8)} "${t.name}" (${t.scope}, ${t.expiresAt === null ? 'until revoked' : `until ${t.expiresAt}`}).`, 'It is shown only now: give it to `codepiper remote add NAME URL --token-stdin` on the other machine.'].join('\n'),
      );
      return;
    }
    case 'list':
    case 'ls': {
      const result = await client.call(authEndpoints.tokens);
      printResult(result, options.json, ({ tokens }) => (tokens.length === 0 ? 'no access tokens' : formatTable(['ID', 'NAME', 'SCOPE', 'CREATED', 'EXPIRES', 'LAST USED'], tokens.map((t) => tokenRow(t, Date.now())))));
      return;
    }
    case 'revoke': {
      if (ref === undefined) throw new UsageError('auth token revoke needs a token id or name (see: codepiper auth token list)');
      await client.call(authEndpoints.revokeToken, { params: { id: ref } });
      print(`revoked access token ${ref}`);
      return;
    }
    default:
      throw new UsageError(`auth token takes create NAME, list or revoke ID${action === undefined ? '' : `, not "${action}"`}`);
  }
}

export function registerAuthCommands(cli: CAC): void {
  withActions(cli.command('auth <action> [...args]', `Sign-in for the web listener: ${ACTIONS}`), ['status', 'sessions', 'revoke', 'token', 'reset-password', 'reset-mfa'])
    .usage(`auth status | auth sessions [--json] | auth revoke ID|all | auth token create NAME [--scope read|full] [--expires DAYS] | auth token list | auth token revoke ID | auth reset-password < file | auth reset-mfa`)
    .option('--json', 'With status, sessions and token: print the API response as JSON')
    .option('--scope <scope>', 'With token create: read (looking only: GET requests, no terminal) or full (default)')
    .option('--expires <days>', 'With token create: it stops working after this many days (default: until revoked)')
    .example('  $ codepiper auth token create laptop --expires 90    # for: codepiper remote add NAME URL --token-stdin')
    .example('  $ codepiper auth sessions')
    .example('  $ codepiper auth revoke all')
    .example('  $ codepiper auth reset-password              # type the new password (not echoed), then Enter')
    .example('  $ codepiper auth reset-mfa                   # the next sign-in enrolls TOTP again')
    .action(async (action: string, args: string[], options: AuthOptions) => {
      const client = connect();
      if (action === 'token') return tokenAction(client, args, options);
      const [id, ...extra] = args;
      if (extra.length > 0 || (id !== undefined && action !== 'revoke')) throw new UsageError(`auth ${action} takes ${action === 'revoke' ? 'one argument' : 'no argument'}`);
      switch (action) {
        case 'status':
          printResult(await client.call(authEndpoints.status), options.json, statusFields);
          return;
        case 'sessions': {
          const result = await client.call(authEndpoints.sessions);
          printResult(result, options.json, ({ sessions }) =>
            sessions.length === 0 ? 'no web sessions' : formatTable(['ID', 'STAGE', 'ADDRESS', 'SIGNED IN', 'LAST SEEN', 'EXPIRES', 'BROWSER'], sessions.map(sessionRow)),
          );
          return;
        }
        case 'revoke': {
          if (id === undefined) throw new UsageError('auth revoke needs a web session id (see: codepiper auth sessions) or "all"');
          const { revoked } = await client.call(authEndpoints.revoke, { params: { id } });
          print(`ended ${revoked} web session${revoked === 1 ? '' : 's'}`);
          return;
        }
        case 'reset-password': {
          const password = await readSecretInput('new password: ');
          if (password.length < MIN_PASSWORD_LENGTH) throw new UsageError(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
          await client.call(authEndpoints.resetPassword, { body: { password } });
          print('password changed; every web session has ended');
          return;
        }
        case 'reset-mfa':
          await client.call(authEndpoints.resetMfa);
          print('TOTP and recovery codes removed; every web session has ended. The next sign-in (password only) enrolls TOTP again.');
          return;
        default:
          throw new UsageError(`unknown auth action "${action}"; use ${ACTIONS}`);
      }
    });
}
