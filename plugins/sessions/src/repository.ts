import { CodePiperError, notFound, resolveRef, type Store } from '@codepiper/sdk';
import { isFinished, type Screen, type SessionFilter, type SessionRecord, type SessionStatus } from '@codepiper/sessions-contract';

interface SessionRow {
  id: string;
  name: string;
  provider: string;
  cwd: string;
  command: string;
  status: SessionStatus;
  status_detail: string | null;
  exit_code: number | null;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
  tmux_session: string;
  tmux_pane: string | null;
  metadata: string;
  last_screen: string | null;
}

/** A session as the daemon keeps it: the public record plus where it lives in tmux. */
export interface StoredSession extends SessionRecord {
  tmuxPane: string | null;
}

const toSession = (row: SessionRow): StoredSession => ({
  id: row.id,
  name: row.name,
  provider: row.provider,
  cwd: row.cwd,
  command: JSON.parse(row.command) as string[],
  status: row.status,
  statusDetail: row.status_detail,
  exitCode: row.exit_code,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  endedAt: row.ended_at,
  tmuxSession: row.tmux_session,
  tmuxPane: row.tmux_pane,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
});

/** The public shape: what the API returns. */
export const toRecord = ({ tmuxPane: _pane, ...record }: StoredSession): SessionRecord => record;

export interface SessionPatch {
  name?: string;
  command?: string[];
  status?: SessionStatus;
  statusDetail?: string | null;
  exitCode?: number | null;
  endedAt?: string | null;
  tmuxPane?: string | null;
  metadata?: Record<string, unknown>;
  lastScreen?: Screen | null;
}

const COLUMNS: Record<keyof SessionPatch, string> = {
  name: 'name',
  command: 'command',
  status: 'status',
  statusDetail: 'status_detail',
  exitCode: 'exit_code',
  endedAt: 'ended_at',
  tmuxPane: 'tmux_pane',
  metadata: 'metadata',
  lastScreen: 'last_screen',
};

/** A session whose program has not ended (see isFinished), in SQL. */
const UNFINISHED = "status NOT IN ('exited', 'crashed')";

/** SQL for session rows; nothing else in the plugin writes SQL. */
export class SessionRepository {
  constructor(private readonly store: Store) {}

  async insert(session: StoredSession): Promise<void> {
    await this.uniqueName(session.name, () => this.store.run(
      `INSERT INTO sessions (id, name, provider, cwd, command, status, status_detail, exit_code, created_at, updated_at, ended_at, tmux_session, tmux_pane, metadata)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        session.id,
        session.name,
        session.provider,
        session.cwd,
        JSON.stringify(session.command),
        session.status,
        session.statusDetail,
        session.exitCode,
        session.createdAt,
        session.updatedAt,
        session.endedAt,
        session.tmuxSession,
        session.tmuxPane,
        JSON.stringify(session.metadata),
      ],
    ));
  }

  async delete(id: string): Promise<void> {
    await this.store.run('DELETE FROM sessions WHERE id = ?', [id]);
  }

  /** The session named `name` exactly, if any. */
  async named(name: string): Promise<StoredSession | undefined> {
    const row = await this.store.get<SessionRow>('SELECT * FROM sessions WHERE name = ?', [name]);
    return row && toSession(row);
  }

  async get(id: string): Promise<StoredSession | undefined> {
    const row = await this.store.get<SessionRow>('SELECT * FROM sessions WHERE id = ?', [id]);
    return row && toSession(row);
  }

  /** The session with this exact id, which must exist. */
  async existing(id: string): Promise<StoredSession> {
    const session = await this.get(id);
    if (!session) throw new CodePiperError('not_found', `session ${id} not found`);
    return session;
  }

  /** A full id, a unique id prefix, or an exact name. */
  async resolve(ref: string): Promise<StoredSession> {
    const select = async (where: string, params: string[], limit: number) =>
      (await this.store.all<SessionRow>(`SELECT * FROM sessions WHERE ${where} ORDER BY created_at DESC LIMIT ?`, [...params, limit])).map(toSession);
    return resolveRef(ref, {
      kind: 'session',
      // A range, so that the primary key's index finds the prefix: an id's characters (hex digits, dashes) all sort before 'g'.
      byIdPrefix: (prefix, limit) => select("id >= ? AND id < ? || 'g'", [prefix, prefix], limit),
      byName: (name, limit) => select('name = ?', [name], limit),
      id: (session) => session.id,
      name: (session) => session.name,
    });
  }

  /**
   * Sessions newest first: every unfinished one, and of the finished ones
   * (which a long-running daemon gathers by the thousand) the newest
   * `filter.finished` (all without it); with how many finished ones were left out.
   */
  async list(filter: SessionFilter = {}): Promise<{ sessions: StoredSession[]; finishedLeftOut: number }> {
    const [status, params] = filter.status ? [' AND status = ?', [filter.status]] : ['', []];
    const limit = filter.finished ?? -1; // SQLite: a negative LIMIT is none
    const rows = await this.store.all<SessionRow>(
      `SELECT * FROM sessions WHERE ${UNFINISHED}${status}
       UNION ALL SELECT * FROM (SELECT * FROM sessions WHERE NOT ${UNFINISHED}${status} ORDER BY created_at DESC LIMIT ?)
       ORDER BY created_at DESC`,
      [...params, ...params, limit],
    );
    const sessions = rows.map(toSession);
    const listed = sessions.filter((session) => isFinished(session.status)).length;
    const finishedLeftOut =
      listed === filter.finished ? (await this.store.get<{ n: number }>(`SELECT count(*) AS n FROM sessions WHERE NOT ${UNFINISHED}${status}`, params))!.n - listed : 0;
    return { sessions, finishedLeftOut };
  }

  async listUnfinished(): Promise<StoredSession[]> {
    return (await this.store.all<SessionRow>(`SELECT * FROM sessions WHERE ${UNFINISHED}`)).map(toSession);
  }

  async update(id: string, patch: SessionPatch): Promise<StoredSession> {
    const sets: string[] = ['updated_at = ?'];
    const params: (string | number | null)[] = [new Date().toISOString()];
    for (const [key, value] of Object.entries(patch) as [keyof SessionPatch, SessionPatch[keyof SessionPatch]][]) {
      if (value === undefined) continue;
      sets.push(`${COLUMNS[key]} = ?`);
      params.push(typeof value === 'object' && value !== null ? JSON.stringify(value) : (value as string | number | null));
    }
    params.push(id);
    await this.uniqueName(patch.name, () => this.store.run(`UPDATE sessions SET ${sets.join(', ')} WHERE id = ?`, params));
    const updated = await this.get(id);
    if (!updated) throw notFound(`session "${id}"`);
    return updated;
  }

  /** Runs a write that may set `name`, turning the unique index's refusal into `name_taken`. */
  private async uniqueName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (name !== undefined && /UNIQUE constraint failed: sessions\.name/.test((error as Error).message)) throw nameTaken(name, await this.named(name));
      throw error;
    }
  }

  async lastScreen(id: string): Promise<Screen | undefined> {
    const row = await this.store.get<{ last_screen: string | null }>('SELECT last_screen FROM sessions WHERE id = ?', [id]);
    return row?.last_screen ? (JSON.parse(row.last_screen) as Screen) : undefined;
  }
}

/** A session name another session has (the database's unique index decides, so that two starts cannot both take it). */
export function nameTaken(name: string, holder?: StoredSession): CodePiperError {
  const who = holder ? ` (${holder.id.slice(0, 8)}, ${holder.status})` : '';
  return new CodePiperError('name_taken', `a session named "${name}" exists${who}; choose another name, or remove that session (codepiper rm)`);
}

