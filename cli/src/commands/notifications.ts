import type { CAC } from 'cac';
import { notificationEndpoints } from '@codepiper/notifications-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { connect } from '../client.js';
import { UsageError } from '../errors.js';
import { formatFields, shortId } from '../format.js';
import { print, printResult } from '../output.js';
import { withActions } from '../command-line.js';

export function registerNotificationCommands(cli: CAC): void {
  withActions(cli.command('notifications <action> [session]', 'Web Push to the dashboard on phones: status, mute SESSION, unmute SESSION'), ['status', 'mute', 'unmute'])
    .usage('notifications status [--json] | notifications mute SESSION | notifications unmute SESSION')
    .option('--json', 'With status: print the API responses as JSON')
    .example('  $ codepiper notifications mute 3f2a      # no more notices about this session, on any device')
    .action(async (action: string, session: string | undefined, options: { json?: boolean }) => {
      const client = connect();
      switch (action) {
        case 'status': {
          if (session !== undefined) throw new UsageError('notifications status takes no SESSION');
          const [status, mutes] = await Promise.all([client.call(notificationEndpoints.status), client.call(notificationEndpoints.mutes)]);
          // Each muted session looked up by itself: listing every session would read months of finished ones.
          const names = new Map(
            await Promise.all(mutes.sessions.map(async (id) => [id, await client.call(sessionEndpoints.show, { params: { id } }).then((s) => s.name, () => undefined)] as const)),
          );
          printResult({ ...status, muted: mutes.sessions }, options.json, ({ subscriptions, on, muted }) =>
            formatFields([
              ['subscriptions', `${subscriptions} device${subscriptions === 1 ? '' : 's'}`],
              ['sent on', on.length > 0 ? on.join(', ') : 'nothing (notifications.on is empty)'],
              ['muted', muted.length > 0 ? muted.map((id) => `${shortId(id)} (${names.get(id) ?? 'removed'})`).join(', ') : 'none'],
            ]),
          );
          return;
        }
        case 'mute':
        case 'unmute': {
          if (session === undefined) throw new UsageError(`notifications ${action} needs a SESSION (id, prefix or name)`);
          const result = await client.call(notificationEndpoints.mute, { params: { session }, body: { muted: action === 'mute' } });
          print(`${action}d notifications of session ${shortId(result.session)}`);
          return;
        }
        default:
          throw new UsageError(`unknown notifications action "${action}"; use status, mute or unmute`);
      }
    });
}
