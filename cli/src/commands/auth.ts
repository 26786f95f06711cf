import type { CAC } from 'cac';
import { authEndpoints, MIN_PASSWORD_LENGTH, type AuthStatus, type WebSession } from '@codepiper/sdk';
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

const ACTIONS = 'status, sessions, revoke ID|all, reset-password, reset-mfa';

export function registerAuthCommands(cli: CAC): void {
  withActions(cli.command('auth <action> [id]', `Sign-in for the web listener (this machine only): ${ACTIONS}`), ['status', 'sessions', 'revoke', 'reset-password', 'reset-mfa'])
    .usage(`auth status | auth sessions [--json] | auth revoke ID|all | auth reset-password < file | auth reset-mfa`)
    .option('--json', 'With status and sessions: print the API response as JSON')
    .example('  $ codepiper auth sessions')
    .example('  $ codepiper auth revoke all')
    .example('  $ codepiper auth reset-password              # type the new password (not echoed), then Enter')
    .example('  $ codepiper auth reset-mfa                   # the next sign-in enrolls TOTP again')
    .action(async (action: string, id: string | undefined, options: { json?: boolean }) => {
      const client = connect();
      if (id !== undefined && action !== 'revoke') throw new UsageError(`auth ${action} takes no argument`);
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
