import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Per-session secrets for agent hook forwarders: the forwarder keeps the
 * secret in a 0600 file; the daemon keeps only its hash.
 */
export const newHookSecret = (): string => randomBytes(32).toString('hex');

export const hookSecretHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** Whether `given` is the secret whose hash is `expectedHash`, compared in constant time. */
export function hookSecretMatches(expectedHash: string | undefined, given: string | undefined): boolean {
  if (!expectedHash || !given) return false;
  const a = Buffer.from(hookSecretHash(given), 'hex');
  const b = Buffer.from(expectedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
