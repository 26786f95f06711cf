import { Mutex, type Logger } from '@codepiper/sdk';
import type { Notice } from './messages.js';
import type { NotificationStore, StoredSubscription } from './store.js';
import type { VapidKeys } from './vapid.js';
import { loadWebPush } from './web-push.js';

/** Notices waiting to be sent beyond this are dropped (a push service that hangs must not grow the daemon). */
const MAX_QUEUED = 500;
/** How long a push service may keep a socket quiet. */
const SEND_TIMEOUT_MS = 10_000;
/** How long a push service keeps a message for a phone that is offline. */
const TTL_S = 24 * 3600;

export interface PushQueueOptions {
  store: NotificationStore;
  vapid: VapidKeys & { subject: string };
  log: Logger;
  sessionName(sessionId: string): Promise<string>;
}

/**
 * Sends notices one after another in the background, each to every
 * subscription at once, so event handling never waits on a push service and
 * a session's notices arrive in order.
 */
export class PushQueue {
  private readonly sending = new Mutex();
  private queued = 0;
  private closed = false;

  constructor(private readonly options: PushQueueOptions) {}

  enqueue(notice: Notice): void {
    if (this.closed) return;
    if (this.queued >= MAX_QUEUED) {
      this.options.log.warn({ session: notice.sessionId, kind: notice.kind }, `more than ${MAX_QUEUED} notifications are waiting to be sent; dropped this one`);
      return;
    }
    this.queued++;
    void this.sending
      .run(() => (this.closed ? Promise.resolve() : this.deliver(notice)))
      .catch((error: unknown) => this.options.log.error({ err: error, session: notice.sessionId, kind: notice.kind }, 'sending a notification failed'))
      .finally(() => this.queued--);
  }

  /** Drops what is waiting and resolves once the notice being sent is done. */
  async close(): Promise<void> {
    this.closed = true;
    await this.sending.run(() => Promise.resolve());
  }

  private async deliver(notice: Notice): Promise<void> {
    const { store, sessionName } = this.options;
    if (await store.isMuted(notice.sessionId)) return;
    const subscriptions = await store.subscriptions();
    if (subscriptions.length === 0) return;
    const payload = JSON.stringify(notice.payload(await sessionName(notice.sessionId)));
    await Promise.all(subscriptions.map((subscription) => this.send(subscription, payload, notice)));
  }

  private async send(subscription: StoredSubscription, payload: string, notice: Notice): Promise<void> {
    const { vapid, log, store } = this.options;
    const webpush = await loadWebPush();
    try {
      await webpush.sendNotification(subscription, payload, {
        vapidDetails: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
        TTL: TTL_S,
        urgency: notice.kind === 'permission' ? 'high' : 'normal',
        // The push service replaces an undelivered notice with a newer one of the same key (topics are at most 32 base64url characters).
        topic: notice.key.replace(/-/g, '').slice(0, 32),
        timeout: SEND_TIMEOUT_MS,
      });
    } catch (error) {
      // The endpoint URL is a capability: log its origin only.
      const where = { subscription: subscription.id, pushService: new URL(subscription.endpoint).origin };
      if (error instanceof webpush.WebPushError && (error.statusCode === 404 || error.statusCode === 410)) {
        await store.forget(subscription);
        log.info({ ...where, status: error.statusCode }, 'the push service says this subscription has ended; removed it');
        return;
      }
      if (!(error instanceof webpush.WebPushError)) {
        log.warn({ ...where, reason: error instanceof Error ? error.message : String(error), session: notice.sessionId }, 'the push service could not be reached');
        return;
      }
      // Apple's push service resolves the subject's host: other services take `mailto:codepiper@localhost`, Apple does not.
      const hint = error.statusCode === 403 && error.body.includes('BadJwtToken') ? `; if the subject (${vapid.subject}) is not a real address, set notifications.subject to one` : '';
      log.warn({ ...where, status: error.statusCode, body: error.body.slice(0, 300), session: notice.sessionId }, `the push service did not take a notification${hint}`);
    }
  }
}
