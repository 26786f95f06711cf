import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_PREFIX, tokenExpired, type AccessToken, type TokenScope } from '@codepiper/auth-contract';
import { resolveRef, type HttpAuthRequest, type HttpAuthVerdict, type Store } from '@codepiper/sdk';
import type { SecurityEvent } from '@codepiper/audit-contract';
import { newToken, sha256 } from './tokens.js';

interface TokenRow {
  id: string;
  name: string;
  token_hash: string;
  scope: TokenScope;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

const toToken = (row: TokenRow): AccessToken => ({ id: row.id, name: row.name, scope: row.scope, createdAt: row.created_at, expiresAt: row.expires_at, lastUsedAt: row.last_used_at });

/** How the kernel knows a token's requests (for logs and its WebSockets: never the token). */
export const tokenPrincipal = (id: string): string => `token:${id}`;

/** The bearer token of a request, when it sends one of ours. */
export function bearerToken(headers: HttpAuthRequest['headers']): string | undefined {
  const value = headers.authorization;
  const match = typeof value === 'string' ? /^Bearer\s+(\S+)$/i.exec(value) : null;
  return match?.[1]?.startsWith(ACCESS_TOKEN_PREFIX) ? match[1] : undefined;
}

/** Requests a `read` token may make: looking, not changing, and no terminal (a WebSocket types). */
const readOnly = (request: HttpAuthRequest): boolean => (request.method === 'GET' || request.method === 'HEAD') && !request.websocket;

/** Last use is written at most this often per token. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Personal access tokens: what a CLI or script on another machine signs in
 * with (`Authorization: Bearer cpat_...`). Only their hashes are kept;
 * revoked ones are deleted, so they stop working at once.
 */
export class AccessTokens {
  constructor(private readonly deps: { store: Store; audit(event: SecurityEvent): Promise<void>; closeWebSockets(principal: string): void }) {}

  async create(request: { name: string; scope?: TokenScope; expiresInDays?: number }, actor: string): Promise<AccessToken & { token: string }> {
    const token = `${ACCESS_TOKEN_PREFIX}${newToken()}`;
    const now = new Date();
    const row: TokenRow = {
      id: randomUUID(),
      name: request.name,
      token_hash: sha256(token),
      scope: request.scope ?? 'full',
      created_at: now.toISOString(),
      expires_at: request.expiresInDays === undefined ? null : new Date(now.getTime() + request.expiresInDays * 86_400_000).toISOString(),
      last_used_at: null,
    };
    await this.deps.store.run('INSERT INTO auth_tokens (id, name, token_hash, scope, created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      row.id, row.name, row.token_hash, row.scope, row.created_at, row.expires_at, row.last_used_at,
    ]);
    await this.deps.audit({ action: 'auth.token', outcome: 'allow', reason: `access token "${row.name}" made (${row.scope})`, actor, details: { token: row.id, scope: row.scope, expiresAt: row.expires_at } });
    return { ...toToken(row), token };
  }

  async list(): Promise<AccessToken[]> {
    return (await this.deps.store.all<TokenRow>('SELECT * FROM auth_tokens ORDER BY created_at')).map(toToken);
  }

  async revoke(ref: string, actor: string): Promise<number> {
    const tokens = await this.list();
    const token = await resolveRef(ref, {
      kind: 'access token',
      byIdPrefix: (prefix, limit) => tokens.filter((t) => t.id.startsWith(prefix)).slice(0, limit),
      byName: (name, limit) => tokens.filter((t) => t.name === name).slice(0, limit),
      id: (t) => t.id,
      name: (t) => t.name,
    });
    const revoked = (await this.deps.store.run('DELETE FROM auth_tokens WHERE id = ?', [token.id])).changes;
    // A terminal it opened ends too: a revoked token reaches nothing.
    this.deps.closeWebSockets(tokenPrincipal(token.id));
    await this.deps.audit({ action: 'auth.token_revoked', outcome: 'allow', reason: `access token "${token.name}" revoked`, actor, details: { token: token.id } });
    return revoked;
  }

  /** The verdict on a request that sends a token: unknown, expired, or beyond its scope are refused. */
  async authenticate(token: string, request: HttpAuthRequest): Promise<HttpAuthVerdict> {
    const row = await this.deps.store.get<TokenRow>('SELECT * FROM auth_tokens WHERE token_hash = ?', [sha256(token)]);
    const now = Date.now();
    if (!row || tokenExpired(row.expires_at, now)) {
      return { allow: false, code: 'unauthenticated', message: 'the access token is unknown, revoked or expired (make one with: codepiper auth token create NAME)' };
    }
    if (row.scope === 'read' && !readOnly(request)) {
      return { allow: false, code: 'token_scope', message: `the access token "${row.name}" may only read (scope read): ${request.method} ${request.route} needs a token of scope full` };
    }
    if (row.last_used_at === null || now - Date.parse(row.last_used_at) > TOUCH_EVERY_MS) {
      await this.deps.store.run('UPDATE auth_tokens SET last_used_at = ? WHERE id = ?', [new Date(now).toISOString(), row.id]);
    }
    return { allow: true, principal: tokenPrincipal(row.id) };
  }
}
