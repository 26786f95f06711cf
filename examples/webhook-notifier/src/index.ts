import * as Type from '@sinclair/typebox';
import { definePlugin } from '@codepiper/sdk';
import { eventAppended } from '@codepiper/events-contract';
import { sessionDirectoryRef } from '@codepiper/sessions-contract';
import { deliver } from './deliver.js';
import { deliveriesEndpoint, listDeliveries, migrations, recordDelivery } from './deliveries.js';
import { kindOf, NOTIFICATION_KINDS, notificationText, type Notification } from './notifications.js';

/** What the webhook receives, for receivers written in TypeScript. */
export type { Notification, NotificationKind } from './notifications.js';
export { deliveriesEndpoint, type Delivery } from './deliveries.js';

const Settings = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Where notifications are POSTed, as JSON' }),
    notify: Type.Array(Type.Union(NOTIFICATION_KINDS.map((kind) => Type.Literal(kind))), {
      uniqueItems: true,
      default: [...NOTIFICATION_KINDS],
      description: 'Which moments: waiting (for permission or input), turn_ended, exited',
    }),
    headers: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Sent with every request, e.g. Authorization' }),
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 3 }),
    backoff_ms: Type.Integer({ minimum: 1, default: 1000, description: 'The wait before the first retry; it doubles after each' }),
    timeout_ms: Type.Integer({ minimum: 100, default: 5000 }),
  },
  { additionalProperties: false },
);

export default definePlugin({
  name: 'webhook-notifier',
  api: '^1.0.0',
  description: 'Posts chosen session events to a webhook, with retries',
  uses: [sessionDirectoryRef],
  config: Settings,
  register(ctx) {
    const chosen = new Set(ctx.config.notify);
    const stopping = new AbortController();
    const inFlight = new Set<Promise<void>>();

    ctx.migrations(migrations);
    ctx.api.handle(deliveriesEndpoint, async ({ query }) => ({ deliveries: await listDeliveries(ctx.store, query.limit ?? 50) }));

    const notify = async (notification: Notification): Promise<void> => {
      const outcome = await deliver(notification.event.id, notification, {
        url: ctx.config.url,
        headers: ctx.config.headers,
        retries: ctx.config.retries,
        backoffMs: ctx.config.backoff_ms,
        timeoutMs: ctx.config.timeout_ms,
        signal: stopping.signal,
        log: ctx.log,
      });
      await recordDelivery(ctx.store, notification, outcome);
    };

    // A notification hook: a throw here would be logged by the kernel, but
    // deliveries run detached so that a slow webhook never holds the others.
    ctx.hooks.tap(eventAppended, async (event) => {
      const kind = kindOf(event);
      if (!kind || !chosen.has(kind) || !event.sessionId) return;
      const record = await ctx.services.get(sessionDirectoryRef).resolve(event.sessionId);
      const session = { id: record.id, name: record.name, provider: record.provider, cwd: record.cwd };
      const delivery = notify({ kind, text: notificationText(kind, session, event), session, event }).catch((error: unknown) =>
        ctx.log.error({ err: error, event: event.id }, 'recording a webhook delivery failed'),
      );
      inFlight.add(delivery);
      void delivery.finally(() => inFlight.delete(delivery));
    });

    return {
      async stop() {
        stopping.abort();
        await Promise.all(inFlight);
      },
    };
  },
});
