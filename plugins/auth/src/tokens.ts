import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { randomWords } from './password.js';

/** A session token: 256 random bits. Only its hash is stored. */
export const newToken = (): string => randomBytes(32).toString('base64url');

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export const RECOVERY_CODE_COUNT = 10;

/** Recovery codes, `xxxxx-xxxxx` (50 random bits each). */
export const newRecoveryCodes = (): string[] => Array.from({ length: RECOVERY_CODE_COUNT }, () => randomWords(2));

/** Case, spaces and dashes do not matter when a recovery code is typed. */
export const normalizeRecoveryCode = (code: string): string => code.toLowerCase().replace(/[\s-]/g, '');

/** The index of the hash in `hashes` that `code` matches, every one compared in constant time; -1 when none. */
export function matchRecoveryCode(code: string, hashes: readonly string[]): number {
  const given = Buffer.from(sha256(normalizeRecoveryCode(code)), 'hex');
  let found = -1;
  hashes.forEach((hash, i) => {
    const expected = Buffer.from(hash, 'hex');
    if (expected.length === given.length && timingSafeEqual(expected, given) && found === -1) found = i;
  });
  return found;
}
