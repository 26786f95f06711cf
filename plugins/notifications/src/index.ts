import { badRequest, definePlugin } from '@codepiper/sdk';
import { eventLogRef, type CodePiperEvent } from '@codepiper/events-contract';
import { GIT_EVENTS } from '@codepiper/worktrees-contract';
import { NOTIFICATION_KINDS, notificationEndpoints, type PushSubscriptionJson } from '@codepiper/notifications-contract';
import { secretStoreRef } from '@codepiper/secrets-contract';
import { sessionDirectoryRef } from '@codepiper/sessions-contract';
import * as Type from '@sinclair/typebox';
import { noticeFor } from './messages.js';
import { PushQueue } from './sender.js';
import { migrations, NotificationStore } from './store.js';
import { loadVapidKeys, type VapidKeys } from './vapid.js';
import { WaitNotices } from './waits.js';

export { noticeFor, cut, describeCall, MAX_BODY, type Notice } from './messages.js';

export const NotificationsConfig = Type.Object({
  subject: Type.String({
    pattern: '^(mailto:|https://)',
    default: 'mailto:codepiper@localhost',
    description: 'VAPID subject: how a push service can reach whoever runs this daemon (a mailto: or https: URL)',
  }),
  on: Type.Array(Type.Union(NOTIFICATION_KINDS.map((kind) => Type.Literal(kind))), {
    uniqueItems: true,
    default: [...NOTIFICATION_KINDS],
    description: 'Which moments are notified: a session asking a question or waiting for permission, finishing a turn, exiting',
  }),
});

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** Refuses what no browser would send, so a bad subscription fails here and not at every notice. */
function checkSubscription({ endpoint, keys }: PushSubscriptionJson): void {
  if (!URL.canParse(endpoint) || new URL(endpoint).protocol !== 'https:') throw badRequest('a push endpoint must be an https: URL');
  const p256dh = BASE64URL.test(keys.p256dh) ? Buffer.from(keys.p256dh, 'base64url') : Buffer.alloc(0);
  if (p256dh.length !== 65 || p256dh[0] !== 4) throw badRequest('keys.p256dh must be an uncompressed P-256 public key (65 bytes), base64url');
  const auth = BASE64URL.test(keys.auth) ? Buffer.from(keys.auth, 'base64url') : Buffer.alloc(0);
  if (auth.length < 16) throw badRequest('keys.auth must be an auth secret of 16 bytes, base64url');
}

export default definePlugin({
  name: 'notifications',
  api: '^1.0.0',
  description: 'Web Push to subscribed browsers when a session asks a question (with Approve and Deny), waits for permission, finishes a turn or exits, unless the session is muted',
  uses: [eventLogRef, sessionDirectoryRef, secretStoreRef],
  config: NotificationsConfig,
  register(ctx) {
    let state: { store: NotificationStore; vapid: VapidKeys; queue: PushQueue; waits: WaitNotices; unsubscribe(): void } | undefined;
    const running = (): NonNullable<typeof state> => {
      if (!state) throw new Error('the notifications plugin has not started');
      return state;
    };
    const sessions = () => ctx.services.get(sessionDirectoryRef);

    ctx.migrations(migrations);

    ctx.api.handle(notificationEndpoints.vapidKey, async () => ({ publicKey: running().vapid.publicKey }));
    ctx.api.handle(notificationEndpoints.subscribe, async ({ body }) => {
      checkSubscription(body);
      return { id: await running().store.subscribe(body) };
    });
    ctx.api.handle(notificationEndpoints.unsubscribe, async ({ body }) => ({ removed: await running().store.unsubscribe(body.endpoint) }));
    ctx.api.handle(notificationEndpoints.status, async () => ({ subscriptions: await running().store.count(), on: ctx.config.on }));
    ctx.api.handle(notificationEndpoints.mutes, async () => ({ sessions: await running().store.mutes() }));
    ctx.api.handle(notificationEndpoints.mute, async ({ params, body }) => {
      const session = await sessions().resolve(params.session);
      await running().store.setMuted(session.id, body.muted);
      return { session: session.id, muted: body.muted };
    });

    return {
      async start() {
        const store = new NotificationStore(ctx.store);
        const vapid = await loadVapidKeys(ctx.services.get(secretStoreRef), ctx.log);
        const queue = new PushQueue({
          store,
          vapid: { ...vapid, subject: ctx.config.subject },
          log: ctx.log,
          sessionName: async (id) => (await sessions().resolve(id).catch(() => undefined))?.name ?? id.slice(0, 8),
        });
        const waits = new WaitNotices((notice) => queue.enqueue(notice));
        const listener = (event: CodePiperEvent) => {
          const notice = noticeFor(event);
          if (notice) waits.notice(notice, ctx.config.on.includes(notice.kind));
        };
        const events = ctx.services.get(eventLogRef);
        const unsubscribers = [events.subscribe({ type: 'session.*' }, listener), events.subscribe({ type: 'approval.pending' }, listener), events.subscribe({ type: GIT_EVENTS.changed }, listener)];
        state = { store, vapid, queue, waits, unsubscribe: () => unsubscribers.forEach((unsubscribe) => unsubscribe()) };
      },
      async stop() {
        state?.unsubscribe();
        state?.waits.close();
        await state?.queue.close();
      },
    };
  },
});
