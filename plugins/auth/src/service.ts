import { randomBytes } from 'node:crypto';
import { CodePiperError, Mutex, notFound, resolveRef, type HttpAuthRequest, type HttpAuthVerdict, type ResponseControl, describeOrigin } from '@codepiper/sdk';
import type { AuthStage, AuthStatus, WebSession } from '@codepiper/auth-contract';
import type { SecretStore } from '@codepiper/secrets-contract';
import type { SecurityEvent } from '@codepiper/audit-contract';
import { clearedCookie, sessionCookie, sessionToken } from './cookies.js';
import { hashPassword, randomWords, verifyPassword } from './password.js';
import { AddressRateLimiter, type AttemptTicket } from './rate-limit.js';
import type { Account, AuthRepository, StoredWebSession } from './repository.js';
import { matchRecoveryCode, newRecoveryCodes, newToken, normalizeRecoveryCode, sha256 } from './tokens.js';
import { newEnrollment, verifyTotp } from './totp.js';

export interface AuthSettings {
  session_idle_s: number;
  session_max_s: number;
  max_failures: number;
  lockout_s: number;
  attempts_per_address: number;
  attempts_window_s: number;
}

export interface AuthServiceDeps {
  repo: AuthRepository;
  secrets: SecretStore;
  settings: AuthSettings;
  /** Appends to the audit trail. */
  audit(event: SecurityEvent): Promise<void>;
  /** Whether a setup session may use this route. */
  allowedInSetup(route: string): boolean;
  /** Closes the WebSockets a web session opened (every one's without a principal). */
  closeWebSockets(principal?: string): void;
}

/** How the kernel knows a web session: the principal of its requests. */
const principalOf = (sessionId: string): string => `web-session:${sessionId}`;

/** Who is calling, as the handlers know it. */
export interface Caller {
  address: string;
  secure: boolean;
  /** The origin the client addressed (TCP only). */
  site?: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What finds a request's web session: its cookie, named as TLS has it, and the site it addressed. */
export type SessionRequest = Pick<Caller, 'headers' | 'secure' | 'site'>;

const TOTP_SECRET = 'auth.totp';
const PENDING_TOTP_SECRET = 'auth.totp-pending';
const RECOVERY_CODES = 'auth.recovery-codes';
const LOGIN_FAILED = 'wrong password or code';
/** Refusals that checked no password or code: the attempt is taken back. */
const NOTHING_CHECKED = new Set(['account_locked', 'password_required', 'mfa_enrolled', 'no_enrollment']);

const iso = (ms: number): string => new Date(ms).toISOString();
const actor = (caller: Pick<Caller, 'address'>): string => describeOrigin({ transport: 'tcp', address: caller.address });
const userAgent = (caller: Caller): string => String(caller.headers['user-agent'] ?? '').slice(0, 200);

/**
 * The account (password, TOTP, recovery codes, lockout) and its web sessions.
 * Logins are handled one at a time, so that a TOTP code cannot be used twice
 * by two requests racing each other.
 */
export class AuthService {
  private readonly limiter: AddressRateLimiter;
  private readonly logins = new Mutex();

  constructor(private readonly deps: AuthServiceDeps) {
    this.limiter = new AddressRateLimiter(deps.settings.attempts_per_address, deps.settings.attempts_window_s * 1000);
  }

  /** On a daemon that listens on TCP and has no password yet: a new one-time bootstrap password (only its hash is kept). */
  async bootstrapIfNeeded(): Promise<string | undefined> {
    const account = await this.deps.repo.account();
    if (account.passwordKind === 'permanent') return undefined;
    const password = randomWords(4);
    await this.deps.repo.updateAccount({ passwordHash: await hashPassword(password), passwordKind: 'bootstrap' });
    // A new bootstrap password ends what the old one opened.
    await this.endAllSessions();
    await this.deps.audit({ action: 'auth.bootstrap', outcome: 'allow', reason: 'a one-time bootstrap password was made', actor: 'kernel' });
    return password;
  }

  /** Ends web sessions: their rows, and the WebSockets they still had open. */
  private async endSessions(ids: readonly string[]): Promise<number> {
    for (const id of ids) this.deps.closeWebSockets(principalOf(id));
    return this.deps.repo.deleteSessions(ids);
  }

  private async endAllSessions(): Promise<number> {
    this.deps.closeWebSockets();
    return this.deps.repo.deleteAllSessions();
  }

  /* ----- Requests ----- */

  async authenticate(request: HttpAuthRequest): Promise<HttpAuthVerdict> {
    const session = await this.current(request);
    if (!session) return { allow: false, code: 'unauthenticated', message: 'sign in first (no session, or it has expired)' };
    if (session.stage === 'setup' && !this.deps.allowedInSetup(request.route)) {
      return { allow: false, code: 'setup_required', message: 'finish the first-run setup (password and TOTP) first' };
    }
    return { allow: true, principal: principalOf(session.id) };
  }

  /**
   * The caller's session if it is valid, at the site it was issued for (a
   * cookie replayed to another port or host name of this machine is not
   * enough); an expired one is removed. Seen now, for the idle expiry.
   */
  async current(request: SessionRequest): Promise<StoredWebSession | undefined> {
    const token = sessionToken(request.headers, request.secure);
    if (!token) return undefined;
    const session = await this.deps.repo.sessionByTokenHash(sha256(token));
    if (!session || session.site === null || session.site !== request.site) return undefined;
    const now = Date.now();
    if (now >= Date.parse(session.expiresAt) || now >= this.idleExpiry(session)) {
      await this.endSessions([session.id]);
      return undefined;
    }
    if (now - Date.parse(session.lastSeenAt) > Math.min(60_000, (this.deps.settings.session_idle_s * 1000) / 4)) {
      await this.deps.repo.touchSession(session.id, iso(now));
    }
    return session;
  }

  async stageOf(request: SessionRequest): Promise<{ stage: AuthStage; expiresAt: string | null; firstRun: boolean }> {
    const session = await this.current(request);
    const account = await this.deps.repo.account();
    return { stage: session?.stage ?? 'none', expiresAt: session?.expiresAt ?? null, firstRun: account.passwordKind !== 'permanent' };
  }

  /* ----- Login and logout ----- */

  /** Counted as it arrives (before the first await), then checked in turn. */
  async login(body: { password: string; code?: string }, caller: Caller, reply: ResponseControl): Promise<{ stage: AuthStage; expiresAt: string }> {
    const ticket = this.admit(caller, reply, 'auth.login');
    return settled(ticket, this.logins.run(() => this.attemptLogin(body, caller, reply, ticket.key)));
  }

  /** A ticket for an attempt from the caller's address, or a 429 (audited) when it must wait. */
  private admit(caller: Caller, reply: ResponseControl, action: 'auth.login' | 'auth.mfa'): AttemptTicket {
    const admission = this.limiter.begin(caller.address);
    if (admission.admitted) return admission.ticket;
    const wait = admission.retryAfterSeconds;
    reply.header('retry-after', String(wait));
    this.deps.audit({ action, outcome: 'deny', reason: admission.busy ? 'rate limited: an attempt in flight' : 'rate limited', actor: actor(caller) }).catch(() => undefined);
    const why = admission.busy ? 'another attempt from this address is being checked' : 'too many attempts from this address';
    throw new CodePiperError('rate_limited', `${why}; try again in ${wait} s`, { retryAfterSeconds: wait });
  }

  private async attemptLogin(body: { password: string; code?: string }, caller: Caller, reply: ResponseControl, addressKey: string): Promise<{ stage: AuthStage; expiresAt: string }> {
    const account = await this.deps.repo.account();
    const now = Date.now();
    if (account.lockedUntil && Date.parse(account.lockedUntil) > now) {
      const wait = Math.ceil((Date.parse(account.lockedUntil) - now) / 1000);
      reply.header('retry-after', String(wait));
      await this.deps.audit({ action: 'auth.login', outcome: 'deny', reason: 'account locked', actor: actor(caller) });
      throw new CodePiperError('account_locked', `too many failed sign-ins: locked until ${account.lockedUntil} (try again in ${wait} s)`, { retryAfterSeconds: wait, lockedUntil: account.lockedUntil });
    }
    const outcome = await this.checkCredentials(account, body);
    if (!outcome) {
      await this.recordFailure(caller, addressKey);
      throw new CodePiperError('login_failed', LOGIN_FAILED);
    }
    await this.deps.repo.updateAccount({ lockedUntil: null, ...(outcome.totpStep !== undefined && { lastTotpStep: outcome.totpStep }) });
    await this.deps.repo.clearFailures();
    const session = await this.openSession(outcome.stage, caller, reply);
    await this.deps.audit({ action: 'auth.login', outcome: 'allow', reason: `signed in (${outcome.via})`, actor: actor(caller), details: { session: session.id, stage: session.stage } });
    return { stage: session.stage, expiresAt: session.expiresAt };
  }

  /** What the credentials are worth: a setup session before the password and TOTP are both set, a full one after. */
  private async checkCredentials(account: Account, body: { password: string; code?: string }): Promise<{ stage: 'setup' | 'full'; via: string; totpStep?: number } | undefined> {
    if (!account.passwordHash || !(await verifyPassword(body.password, account.passwordHash))) return undefined;
    if (account.passwordKind === 'bootstrap') return { stage: 'setup', via: 'bootstrap password' };
    if (!account.mfaEnrolled) return { stage: 'setup', via: 'password; TOTP not enrolled' };
    if (body.code === undefined) return undefined;
    const secret = await this.deps.secrets.get(TOTP_SECRET);
    const step = secret === undefined ? undefined : verifyTotp(secret, body.code, account.lastTotpStep);
    if (step !== undefined) return { stage: 'full', via: 'password and TOTP', totpStep: step };
    return (await this.useRecoveryCode(body.code)) ? { stage: 'full', via: 'password and recovery code' } : undefined;
  }

  private async useRecoveryCode(code: string): Promise<boolean> {
    const hashes = JSON.parse((await this.deps.secrets.get(RECOVERY_CODES)) ?? '[]') as string[];
    const index = matchRecoveryCode(code, hashes);
    if (index === -1) return false;
    await this.deps.secrets.set(RECOVERY_CODES, JSON.stringify(hashes.filter((_, i) => i !== index)));
    return true;
  }

  /**
   * Counts a failed sign-in against its address key, each key counting for at
   * most `attempts_per_address`: one address (or IPv6 /64) alone never locks
   * the account, since `max_failures` is more than that.
   */
  private async recordFailure(caller: Caller, addressKey: string): Promise<void> {
    await this.deps.repo.addFailure(addressKey);
    const failures = await this.failures();
    await this.deps.audit({ action: 'auth.login', outcome: 'deny', reason: LOGIN_FAILED, actor: actor(caller), details: { failures } });
    if (failures < this.deps.settings.max_failures) return;
    const lockedUntil = iso(Date.now() + this.deps.settings.lockout_s * 1000);
    await this.deps.repo.updateAccount({ lockedUntil });
    await this.deps.repo.clearFailures();
    await this.deps.audit({ action: 'auth.lockout', outcome: 'deny', reason: `${failures} failed sign-ins: locked until ${lockedUntil}`, actor: actor(caller) });
  }

  private failures(): Promise<number> {
    return this.deps.repo.failureTotal(this.deps.settings.attempts_per_address);
  }

  private async openSession(stage: 'setup' | 'full', caller: Caller, reply: ResponseControl): Promise<StoredWebSession> {
    const token = newToken();
    const now = Date.now();
    const session: StoredWebSession = {
      id: randomBytes(8).toString('hex'),
      tokenHash: sha256(token),
      stage,
      createdAt: iso(now),
      lastSeenAt: iso(now),
      expiresAt: iso(now + this.deps.settings.session_max_s * 1000),
      address: caller.address,
      userAgent: userAgent(caller),
      // Without a site (not over TCP) the session works nowhere.
      site: caller.site ?? null,
    };
    await this.deps.repo.insertSession(session);
    reply.header('set-cookie', sessionCookie(token, this.deps.settings.session_max_s, caller.secure));
    return session;
  }

  async logout(caller: Caller, reply: ResponseControl): Promise<void> {
    const session = await this.current(caller);
    if (session) await this.endSessions([session.id]);
    reply.header('set-cookie', clearedCookie(caller.secure));
    await this.deps.audit({ action: 'auth.logout', outcome: 'allow', reason: 'signed out', actor: actor(caller), details: { session: session?.id ?? null } });
  }

  /* ----- First-run setup ----- */

  async setPassword(password: string, caller: Caller): Promise<void> {
    const account = await this.deps.repo.account();
    if (account.passwordKind === 'permanent') throw new CodePiperError('password_set', 'the password is chosen already; change it with `codepiper auth reset-password` on the daemon’s machine');
    await this.deps.repo.updateAccount({ passwordHash: await hashPassword(password), passwordKind: 'permanent' });
    // Only the session that chose the password goes on to enroll TOTP: any other bootstrap session ends.
    const own = await this.current(caller);
    await this.endSessions((await this.deps.repo.sessions()).filter((session) => session.id !== own?.id).map((session) => session.id));
    await this.deps.audit({ action: 'auth.password', outcome: 'allow', reason: 'password chosen at first-run setup', actor: actor(caller) });
  }

  async enrollTotp(caller: Caller): Promise<{ secret: string; uri: string; qrSvg: string }> {
    await this.enrollable();
    const enrollment = await newEnrollment(`codepiper@${String(caller.headers.host ?? 'localhost').slice(0, 100)}`);
    await this.deps.secrets.set(PENDING_TOTP_SECRET, enrollment.secret);
    return enrollment;
  }

  async confirmTotp(code: string, caller: Caller, reply: ResponseControl): Promise<{ recoveryCodes: string[]; stage: AuthStage }> {
    const ticket = this.admit(caller, reply, 'auth.mfa');
    return settled(ticket, this.attemptConfirmTotp(code, caller, reply));
  }

  private async attemptConfirmTotp(code: string, caller: Caller, reply: ResponseControl): Promise<{ recoveryCodes: string[]; stage: AuthStage }> {
    await this.enrollable();
    const secret = await this.deps.secrets.get(PENDING_TOTP_SECRET);
    if (secret === undefined) throw new CodePiperError('no_enrollment', 'start the enrollment first (POST /auth/setup/totp)');
    const step = verifyTotp(secret, code, null);
    if (step === undefined) {
      await this.deps.audit({ action: 'auth.mfa', outcome: 'deny', reason: 'a wrong code confirming TOTP enrollment', actor: actor(caller) });
      throw new CodePiperError('invalid_code', 'that code does not match the new secret; check the authenticator app’s clock');
    }
    const codes = newRecoveryCodes();
    await this.deps.secrets.set(TOTP_SECRET, secret);
    await this.deps.secrets.set(RECOVERY_CODES, JSON.stringify(codes.map((c) => sha256(normalizeRecoveryCode(c)))));
    await this.deps.secrets.delete(PENDING_TOTP_SECRET);
    await this.deps.repo.updateAccount({ mfaEnrolled: true, lastTotpStep: step });
    // Both factors proven: the setup session gives way to a full one with a new token.
    const previous = await this.current(caller);
    if (previous) await this.endSessions([previous.id]);
    const session = await this.openSession('full', caller, reply);
    await this.deps.audit({ action: 'auth.mfa', outcome: 'allow', reason: 'TOTP enrolled; recovery codes made', actor: actor(caller), details: { session: session.id } });
    return { recoveryCodes: codes, stage: session.stage };
  }

  private async enrollable(): Promise<Account> {
    const account = await this.deps.repo.account();
    if (account.passwordKind !== 'permanent') throw new CodePiperError('password_required', 'choose the permanent password first (POST /auth/setup/password)');
    if (account.mfaEnrolled) throw new CodePiperError('mfa_enrolled', 'TOTP is enrolled already; reset it with `codepiper auth reset-mfa` on the daemon’s machine');
    return account;
  }

  /* ----- Sessions and the local CLI ----- */

  /** `request`: whose session is marked current, if any. */
  async list(request?: SessionRequest): Promise<WebSession[]> {
    const current = request && (await this.current(request));
    return (await this.endExpiredSessions()).map(({ tokenHash: _hash, site: _site, ...s }) => ({ ...s, idleExpiresAt: iso(this.idleExpiry(s)), current: s.id === current?.id }));
  }

  /**
   * Ends the web sessions past their expiry (absolute or idle); resolves with
   * the others. A request with an expired session ends it too, but one nobody
   * uses again (a phone's, a browser's closed for good) is ended only here.
   */
  async endExpiredSessions(): Promise<StoredWebSession[]> {
    const now = Date.now();
    const all = await this.deps.repo.sessions();
    const expired = all.filter((s) => now >= Date.parse(s.expiresAt) || now >= this.idleExpiry(s));
    await this.endSessions(expired.map((s) => s.id));
    return all.filter((s) => !expired.includes(s));
  }

  async revoke(idOrAll: string, who: string): Promise<number> {
    const sessions = await this.list();
    const targets =
      idOrAll === 'all'
        ? sessions
        : [await resolveRef(idOrAll, { kind: 'web session', byIdPrefix: (prefix, limit) => sessions.filter((s) => s.id.startsWith(prefix)).slice(0, limit), id: (s) => s.id })];
    if (targets.length === 0) throw notFound('web sessions');
    const revoked = await this.endSessions(targets.map((s) => s.id));
    await this.deps.audit({ action: 'auth.revoke', outcome: 'allow', reason: `${revoked} web session(s) ended`, actor: who, details: { sessions: targets.map((s) => s.id) } });
    return revoked;
  }

  async status(): Promise<AuthStatus> {
    const account = await this.deps.repo.account();
    const codes = JSON.parse((await this.deps.secrets.get(RECOVERY_CODES)) ?? '[]') as string[];
    const locked = account.lockedUntil !== null && Date.parse(account.lockedUntil) > Date.now();
    return {
      passwordSet: account.passwordKind === 'permanent',
      mfaEnrolled: account.mfaEnrolled,
      recoveryCodesLeft: codes.length,
      failedAttempts: await this.failures(),
      lockedUntil: locked ? account.lockedUntil : null,
      sessions: (await this.list()).length,
    };
  }

  async resetPassword(password: string, who: string): Promise<void> {
    await this.deps.repo.updateAccount({ passwordHash: await hashPassword(password), passwordKind: 'permanent', lockedUntil: null });
    await this.deps.repo.clearFailures();
    const ended = await this.endAllSessions();
    await this.deps.audit({ action: 'auth.password', outcome: 'allow', reason: `password reset from the local CLI; ${ended} web session(s) ended`, actor: who });
  }

  async resetMfa(who: string): Promise<void> {
    for (const name of [TOTP_SECRET, PENDING_TOTP_SECRET, RECOVERY_CODES]) await this.deps.secrets.delete(name);
    await this.deps.repo.updateAccount({ mfaEnrolled: false, lastTotpStep: null });
    const ended = await this.endAllSessions();
    await this.deps.audit({ action: 'auth.mfa', outcome: 'allow', reason: `TOTP and recovery codes removed from the local CLI; ${ended} web session(s) ended`, actor: who });
  }

  private idleExpiry(session: Pick<StoredWebSession, 'lastSeenAt'>): number {
    return Date.parse(session.lastSeenAt) + this.deps.settings.session_idle_s * 1000;
  }
}

/** Settles the ticket as the attempt ends: a failure stays counted; a success, or a refusal that checked nothing, does not. */
async function settled<T>(ticket: AttemptTicket, attempt: Promise<T>): Promise<T> {
  try {
    const result = await attempt;
    ticket.settle(false);
    return result;
  } catch (error) {
    ticket.settle(!(error instanceof CodePiperError && NOTHING_CHECKED.has(error.code)));
    throw error;
  }
}
