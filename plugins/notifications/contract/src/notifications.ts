import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint } from '@codepiper/sdk';

/** A browser's push subscription, as `PushSubscription.toJSON()` gives it. */
export const PushSubscriptionSchema = Type.Object(
  {
    endpoint: Type.String({ format: 'uri', maxLength: 2048, description: 'The push service URL the browser gave' }),
    keys: Type.Object({
      p256dh: Type.String({ maxLength: 256, description: 'The browser’s P-256 public key, base64url' }),
      auth: Type.String({ maxLength: 64, description: 'The browser’s auth secret, base64url' }),
    }),
  },
  { additionalProperties: false },
);
export type PushSubscriptionJson = Static<typeof PushSubscriptionSchema>;

/** The moments a notification can be sent for (`notifications.on` in config.yaml). */
/** `review`: a session's worktree changed (`git.changed`), ready to be reviewed. */
export const NOTIFICATION_KINDS = ['permission', 'turn', 'exit', 'review'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** A pending approval, as a push message carries it: what the notification's Approve and Deny do. */
export interface PushApproval {
  id: string;
  sessionId: string;
  tool: string;
  /** The tool call in one line: `Bash rm -rf build`. */
  description: string;
  /** Same-origin URLs the service worker POSTs `{}` to (the approve and deny endpoints). */
  approveUrl: string;
  denyUrl: string;
}

/** The JSON a push message carries; the dashboard's service worker shows it. */
export interface PushPayload {
  title: string;
  body: string;
  /** `session-<id>`: a newer notice of a session replaces its previous one; `approval-<id>` for a question. */
  tag: string;
  /** Where a tap leads: `/#/sessions/<id>` (a question is answered there too). */
  url: string;
  /** A question: shown with Approve and Deny where the platform has notification actions. */
  approval?: PushApproval;
  actions?: { action: 'approve' | 'deny'; title: string }[];
}

export const notificationEndpoints = {
  vapidKey: defineEndpoint({
    method: 'GET',
    url: '/notifications/vapid-key',
    summary: 'The daemon’s VAPID public key (base64url), the applicationServerKey to subscribe with',
    tags: ['notifications'],
    response: Type.Object({ publicKey: Type.String() }),
  }),
  subscribe: defineEndpoint({
    method: 'POST',
    url: '/notifications/subscriptions',
    summary: 'Send notifications to this push subscription (the same endpoint again updates its keys and keeps its id)',
    tags: ['notifications'],
    body: PushSubscriptionSchema,
    response: Type.Object({ id: Type.String() }),
  }),
  unsubscribe: defineEndpoint({
    method: 'POST',
    url: '/notifications/subscriptions/remove',
    summary: 'Stop sending notifications to a push endpoint',
    tags: ['notifications'],
    body: Type.Object({ endpoint: Type.String({ maxLength: 2048 }) }, { additionalProperties: false }),
    response: Type.Object({ removed: Type.Integer() }),
  }),
  status: defineEndpoint({
    method: 'GET',
    url: '/notifications/status',
    summary: 'How many push subscriptions there are and which kinds of notice are sent',
    tags: ['notifications'],
    response: Type.Object({ subscriptions: Type.Integer(), on: Type.Array(Type.String()) }),
  }),
  mutes: defineEndpoint({
    method: 'GET',
    url: '/notifications/mutes',
    summary: 'Sessions whose notifications are muted (full ids)',
    tags: ['notifications'],
    response: Type.Object({ sessions: Type.Array(Type.String()) }),
  }),
  mute: defineEndpoint({
    method: 'PUT',
    url: '/notifications/mutes/:session',
    summary: 'Mute or unmute one session’s notifications on every device',
    tags: ['notifications'],
    params: Type.Object({ session: Type.String({ minLength: 1, maxLength: 100, description: 'Session id, unique prefix or name' }) }),
    body: Type.Object({ muted: Type.Boolean() }, { additionalProperties: false }),
    response: Type.Object({ session: Type.String(), muted: Type.Boolean() }),
  }),
};
