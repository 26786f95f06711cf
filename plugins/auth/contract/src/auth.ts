import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, IsoTime, Nullable, Ok } from '@codepiper/sdk';

/** The cookie that carries a web session's token over plain HTTP. */
export const SESSION_COOKIE = 'codepiper_session';
/** Its name under TLS: browsers keep a `__Host-` cookie Secure, on Path=/ and to the one host, and let no plain-HTTP page set it. */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
/** The session cookie's name for a client that reached the daemon over TLS, or not. */
export const sessionCookieName = (secure: boolean): string => (secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE);

/**
 * How far a web session reaches: `setup` (after the bootstrap password, or
 * the password while no TOTP is enrolled) may only set the password and
 * enroll TOTP; `full` may use the whole API.
 */
export const AuthStageSchema = Type.Union([Type.Literal('none'), Type.Literal('setup'), Type.Literal('full')]);
export type AuthStage = Static<typeof AuthStageSchema>;

export const MIN_PASSWORD_LENGTH = 12;
const Password = Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 1024, description: `At least ${MIN_PASSWORD_LENGTH} characters` });
const Code = Type.String({ minLength: 6, maxLength: 64, description: 'A 6-digit TOTP code, or a recovery code' });

export const WebSessionSchema = Type.Object({
  id: Type.String({ description: 'Public id (not the token)' }),
  stage: AuthStageSchema,
  createdAt: IsoTime,
  lastSeenAt: IsoTime,
  expiresAt: IsoTime,
  idleExpiresAt: IsoTime,
  address: Type.String(),
  userAgent: Type.String(),
  current: Type.Boolean({ description: 'The session making this request' }),
});
export type WebSession = Static<typeof WebSessionSchema>;

export const AuthStatusSchema = Type.Object({
  passwordSet: Type.Boolean({ description: 'false: only the bootstrap password works' }),
  mfaEnrolled: Type.Boolean(),
  recoveryCodesLeft: Type.Integer(),
  failedAttempts: Type.Integer({ description: 'Failed logins since the last success, each address (an IPv6 /64) counting for at most auth.attempts_per_address' }),
  lockedUntil: Nullable(IsoTime),
  sessions: Type.Integer({ description: 'Web sessions that have not expired' }),
});
export type AuthStatus = Static<typeof AuthStatusSchema>;

/** A personal access token's reach: `read` (GET requests, no terminal) or `full` (the whole API, as a signed-in user). */
export const TokenScopeSchema = Type.Union([Type.Literal('read'), Type.Literal('full')]);
export type TokenScope = Static<typeof TokenScopeSchema>;

/** What the token itself starts with, so that a leaked one is recognised (secret scanners, logs). */
export const ACCESS_TOKEN_PREFIX = 'cpat_';

export const AccessTokenSchema = Type.Object({
  id: Type.String({ description: 'Public id (not the token)' }),
  name: Type.String({ description: 'What it is for: the machine or script holding it' }),
  scope: TokenScopeSchema,
  createdAt: IsoTime,
  expiresAt: Nullable(IsoTime),
  lastUsedAt: Nullable(IsoTime),
});
export type AccessToken = Static<typeof AccessTokenSchema>;

/** Whether a token with this expiry (`null`: none) no longer works at `now` (ms): the daemon refuses it, and lists say so. */
export const tokenExpired = (expiresAt: string | null, now: number): boolean => expiresAt !== null && now >= Date.parse(expiresAt);

export const authEndpoints = {
  session: defineEndpoint({
    method: 'GET',
    url: '/auth/session',
    summary: 'Whether this client is signed in, and whether the daemon still waits for its first-run setup',
    tags: ['auth'],
    access: 'public',
    response: Type.Object({ stage: AuthStageSchema, expiresAt: Nullable(IsoTime), firstRun: Type.Boolean({ description: 'No password chosen yet: sign in with the bootstrap password' }) }),
  }),
  login: defineEndpoint({
    method: 'POST',
    url: '/auth/login',
    summary: 'Sign in: password and TOTP (or recovery) code; the bootstrap password alone gives a setup session. Sets the session cookie.',
    tags: ['auth'],
    access: 'public',
    body: Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }), code: Type.Optional(Code) }, { additionalProperties: false }),
    response: Type.Object({ stage: AuthStageSchema, expiresAt: IsoTime }),
  }),
  logout: defineEndpoint({
    method: 'POST',
    url: '/auth/logout',
    summary: 'End this web session',
    tags: ['auth'],
    response: Ok,
  }),
  setPassword: defineEndpoint({
    method: 'POST',
    url: '/auth/setup/password',
    control: true,
    summary: 'First run: choose the permanent password (setup session)',
    tags: ['auth'],
    body: Type.Object({ password: Password }, { additionalProperties: false }),
    response: Ok,
  }),
  enrollTotp: defineEndpoint({
    method: 'POST',
    url: '/auth/setup/totp',
    control: true,
    summary: 'Start TOTP enrollment: a new secret, as text, otpauth URI and QR code (SVG); confirm it with a code',
    tags: ['auth'],
    response: Type.Object({ secret: Type.String(), uri: Type.String(), qrSvg: Type.String() }),
  }),
  confirmTotp: defineEndpoint({
    method: 'POST',
    url: '/auth/setup/totp/confirm',
    control: true,
    summary: 'Finish TOTP enrollment with a valid code; returns the recovery codes, shown this once',
    tags: ['auth'],
    body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
    response: Type.Object({ recoveryCodes: Type.Array(Type.String()), stage: AuthStageSchema }),
  }),
  sessions: defineEndpoint({
    method: 'GET',
    url: '/auth/sessions',
    control: true,
    summary: 'Web sessions that have not expired',
    tags: ['auth'],
    response: Type.Object({ sessions: Type.Array(WebSessionSchema) }),
  }),
  revoke: defineEndpoint({
    method: 'DELETE',
    url: '/auth/sessions/:id',
    control: true,
    summary: 'End a web session (by id or unique prefix; `all` for every one)',
    tags: ['auth'],
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
    response: Type.Object({ revoked: Type.Integer() }),
  }),
  createToken: defineEndpoint({
    method: 'POST',
    url: '/auth/tokens',
    control: true,
    summary: 'A personal access token for a CLI or script on another machine (`Authorization: Bearer`); the token is in this answer only',
    tags: ['auth'],
    status: 201,
    body: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\x00-\\x1f\\x7f]+$' }),
        scope: Type.Optional(TokenScopeSchema),
        expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'None: it lasts until revoked' })),
      },
      { additionalProperties: false },
    ),
    response: Type.Composite([AccessTokenSchema, Type.Object({ token: Type.String({ description: 'Shown this once; only its hash is kept' }) })]),
  }),
  tokens: defineEndpoint({
    method: 'GET',
    url: '/auth/tokens',
    control: true,
    summary: 'Personal access tokens not revoked (never the tokens themselves)',
    tags: ['auth'],
    response: Type.Object({ tokens: Type.Array(AccessTokenSchema) }),
  }),
  revokeToken: defineEndpoint({
    method: 'DELETE',
    url: '/auth/tokens/:id',
    control: true,
    summary: 'Revokes a personal access token (by id or unique prefix): it no longer works, at once',
    tags: ['auth'],
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
    response: Type.Object({ revoked: Type.Integer() }),
  }),
  status: defineEndpoint({
    method: 'GET',
    url: '/auth/status',
    control: true,
    summary: 'The account: password, TOTP, recovery codes, failures and lockout (local CLI only)',
    tags: ['auth'],
    access: 'local',
    response: AuthStatusSchema,
  }),
  resetPassword: defineEndpoint({
    method: 'POST',
    url: '/auth/reset-password',
    control: true,
    summary: 'Set a new password and end every web session (local CLI only)',
    tags: ['auth'],
    access: 'local',
    body: Type.Object({ password: Password }, { additionalProperties: false }),
    response: Ok,
  }),
  resetMfa: defineEndpoint({
    method: 'POST',
    url: '/auth/reset-mfa',
    control: true,
    summary: 'Remove the TOTP secret and recovery codes and end every web session; the next login enrolls TOTP again (local CLI only)',
    tags: ['auth'],
    access: 'local',
    response: Ok,
  }),
};
