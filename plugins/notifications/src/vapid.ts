import type { Logger } from '@codepiper/sdk';
import type { SecretStore } from '@codepiper/secrets-contract';
import { loadWebPush } from './web-push.js';

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url: the browser's applicationServerKey. */
  publicKey: string;
  privateKey: string;
}

const SECRET = 'notifications.vapid';

/**
 * The daemon's VAPID key pair, made on first start and kept in the secret
 * store: browsers bind a subscription to the public key, so a new pair would
 * silently orphan every subscription.
 */
export async function loadVapidKeys(secrets: SecretStore, log: Logger): Promise<VapidKeys> {
  const stored = await secrets.get(SECRET);
  if (stored !== undefined) {
    const keys = JSON.parse(stored) as Partial<VapidKeys>;
    if (typeof keys.publicKey === 'string' && typeof keys.privateKey === 'string') return { publicKey: keys.publicKey, privateKey: keys.privateKey };
    throw new Error(`the secret ${SECRET} does not hold a VAPID key pair`);
  }
  const { publicKey, privateKey } = (await loadWebPush()).generateVAPIDKeys();
  await secrets.set(SECRET, JSON.stringify({ publicKey, privateKey }));
  log.info('made a VAPID key pair for Web Push and stored it in the secret store');
  return { publicKey, privateKey };
}
