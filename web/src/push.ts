import { notificationEndpoints } from '@codepiper/notifications-contract';
import { call } from './api.js';

const bytes = (base64url: string): Uint8Array<ArrayBuffer> => {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
};

async function registration(): Promise<ServiceWorkerRegistration> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) throw new Error('this browser cannot receive notifications (install the app to the home screen first on iOS)');
  return navigator.serviceWorker.ready;
}

/** Whether this browser already receives CodePiper's notifications. */
export async function pushEnabled(): Promise<boolean> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) return false;
  // Not `ready`: it never settles where the worker failed to register.
  const worker = await navigator.serviceWorker.getRegistration();
  return (await worker?.pushManager.getSubscription()) != null;
}

/** Asks for permission, subscribes with the daemon's VAPID key and gives the daemon the subscription. */
export async function enablePush(): Promise<void> {
  const worker = await registration();
  if ((await Notification.requestPermission()) !== 'granted') throw new Error('notifications are blocked for this site in the browser settings');
  const { publicKey } = await call(notificationEndpoints.vapidKey);
  const subscription = await worker.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(publicKey) });
  const { endpoint, keys } = subscription.toJSON();
  if (!endpoint || !keys?.p256dh || !keys.auth) throw new Error('the browser gave an incomplete push subscription');
  await call(notificationEndpoints.subscribe, { body: { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } } });
}

export async function disablePush(): Promise<void> {
  const subscription = await (await registration()).pushManager.getSubscription();
  if (!subscription) return;
  await call(notificationEndpoints.unsubscribe, { body: { endpoint: subscription.endpoint } });
  await subscription.unsubscribe();
}
