import type { Store } from '@codepiper/sdk';

export interface Account {
  passwordHash: string | null;
  passwordKind: 'bootstrap' | 'permanent' | null;
  mfaEnrolled: boolean;
  lastTotpStep: number | null;
  lockedUntil: string | null;
}

export interface StoredWebSession {
  id: string;
  tokenHash: string;
  stage: 'setup' | 'full';
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  address: string;
  userAgent: string;
  /** The origin it was issued for (`https://host:port`), the only one it works at; null for none known. */
  site: string | null;
}

interface AccountRow {
  password_hash: string | null;
  password_kind: 'bootstrap' | 'permanent' | null;
  mfa_enrolled: number;
  last_totp_step: number | null;
  locked_until: string | null;
}

interface SessionRow {
  id: string;
  token_hash: string;
  stage: 'setup' | 'full';
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  address: string;
  user_agent: string;
  site: string | null;
}

const ACCOUNT_COLUMNS: Record<keyof Account, string> = {
  passwordHash: 'password_hash',
  passwordKind: 'password_kind',
  mfaEnrolled: 'mfa_enrolled',
  lastTotpStep: 'last_totp_step',
  lockedUntil: 'locked_until',
};

const toSession = (row: SessionRow): StoredWebSession => ({
  id: row.id,
  tokenHash: row.token_hash,
  stage: row.stage,
  createdAt: row.created_at,
  lastSeenAt: row.last_seen_at,
  expiresAt: row.expires_at,
  address: row.address,
  userAgent: row.user_agent,
  site: row.site,
});

/** The one account (a row with id 1), its failed sign-ins and its web sessions, in SQLite. */
export class AuthRepository {
  constructor(private readonly store: Store) {}

  async account(): Promise<Account> {
    const row = (await this.store.get<AccountRow>('SELECT * FROM auth_account WHERE id = 1'))!;
    return {
      passwordHash: row.password_hash,
      passwordKind: row.password_kind,
      mfaEnrolled: row.mfa_enrolled === 1,
      lastTotpStep: row.last_totp_step,
      lockedUntil: row.locked_until,
    };
  }

  async updateAccount(patch: Partial<Account>): Promise<void> {
    const entries = Object.entries(patch) as [keyof Account, Account[keyof Account]][];
    const sets = entries.map(([key]) => `${ACCOUNT_COLUMNS[key]} = ?`);
    const values = entries.map(([, value]) => (typeof value === 'boolean' ? Number(value) : value));
    await this.store.run(`UPDATE auth_account SET ${[...sets, 'updated_at = ?'].join(', ')} WHERE id = 1`, [...values, new Date().toISOString()]);
  }

  /* Failed sign-ins since the last success, by address key. */

  async addFailure(addressKey: string): Promise<void> {
    await this.store.run('INSERT INTO auth_failures (address_key, count) VALUES (?, 1) ON CONFLICT (address_key) DO UPDATE SET count = count + 1', [addressKey]);
  }

  /** Their total, each address key counting for at most `perKey`. */
  async failureTotal(perKey: number): Promise<number> {
    return (await this.store.get<{ total: number }>('SELECT COALESCE(SUM(MIN(count, ?)), 0) AS total FROM auth_failures', [perKey]))!.total;
  }

  async clearFailures(): Promise<void> {
    await this.store.run('DELETE FROM auth_failures');
  }

  async insertSession(session: StoredWebSession): Promise<void> {
    await this.store.run(
      'INSERT INTO auth_sessions (id, token_hash, stage, created_at, last_seen_at, expires_at, address, user_agent, site) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [session.id, session.tokenHash, session.stage, session.createdAt, session.lastSeenAt, session.expiresAt, session.address, session.userAgent, session.site],
    );
  }

  async sessionByTokenHash(tokenHash: string): Promise<StoredWebSession | undefined> {
    const row = await this.store.get<SessionRow>('SELECT * FROM auth_sessions WHERE token_hash = ?', [tokenHash]);
    return row && toSession(row);
  }

  async sessions(): Promise<StoredWebSession[]> {
    return (await this.store.all<SessionRow>('SELECT * FROM auth_sessions ORDER BY created_at')).map(toSession);
  }

  async touchSession(id: string, lastSeenAt: string): Promise<void> {
    await this.store.run('UPDATE auth_sessions SET last_seen_at = ? WHERE id = ?', [lastSeenAt, id]);
  }

  async deleteSessions(ids: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const id of ids) deleted += (await this.store.run('DELETE FROM auth_sessions WHERE id = ?', [id])).changes;
    return deleted;
  }

  async deleteAllSessions(): Promise<number> {
    return (await this.store.run('DELETE FROM auth_sessions')).changes;
  }
}
