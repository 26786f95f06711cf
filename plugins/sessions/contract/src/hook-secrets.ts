import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CodePiperError } from '@codepiper/sdk';
import type { SessionDirectory } from './sessions.js';

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

/**
 * Checks the secrets of one provider's hooks. A hook names its session by the
 * whole id (its address, never a prefix or a name); each session's hash (its
 * metadata's `hookKeyHash`) is looked up once, then kept: a launch (and a
 * resume, which makes a new secret) tells it with `launched`, a removal with
 * `forget`.
 */
export class HookSecretCheck {
  private readonly hashes = new Map<string, string>();

  constructor(
    private readonly provider: string,
    private readonly sessions: () => SessionDirectory,
  ) {}

  launched(sessionId: string, keyHash: string): void {
    this.hashes.set(sessionId, keyHash);
  }

  forget(sessionId: string): void {
    this.hashes.delete(sessionId);
  }

  /** Throws `unauthorized` unless `secret` is the hook secret of the session `sessionId`. */
  async check(sessionId: string, secret: string | undefined): Promise<void> {
    if (!secret) throw unauthorized();
    const expected = this.hashes.get(sessionId) ?? (await this.lookUp(sessionId));
    if (!hookSecretMatches(expected, secret)) throw unauthorized();
  }

  private async lookUp(sessionId: string): Promise<string | undefined> {
    const session = await this.sessions()
      .resolve(sessionId)
      .catch(() => undefined);
    const hash = session?.metadata.hookKeyHash;
    if (session?.id !== sessionId || session.provider !== this.provider || typeof hash !== 'string') return undefined;
    this.hashes.set(sessionId, hash);
    return hash;
  }
}

const unauthorized = (): CodePiperError => new CodePiperError('unauthorized', 'wrong or missing hook secret for this session');
