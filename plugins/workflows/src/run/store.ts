import { CodePiperError, likePrefix, resolveRef, type Migration, type Store } from '@codepiper/sdk';
import type { RunStatus, RunStep, StepStatus, WorkflowRun } from '@codepiper/workflows-contract';
import type { ProcessGroup } from './process-group.js';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'workflow runs and their steps',
    up: `CREATE TABLE workflow_runs (
           id TEXT PRIMARY KEY,
           name TEXT NOT NULL,
           file TEXT NOT NULL,
           source TEXT NOT NULL,
           vars TEXT NOT NULL,
           env TEXT NOT NULL,
           status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
           error TEXT,
           event_cursor INTEGER NOT NULL,
           created_at TEXT NOT NULL,
           updated_at TEXT NOT NULL,
           finished_at TEXT
         );
         CREATE INDEX workflow_runs_by_status ON workflow_runs (status);
         CREATE TABLE workflow_steps (
           run_id TEXT NOT NULL REFERENCES workflow_runs (id),
           key TEXT NOT NULL,
           seq INTEGER NOT NULL,
           path TEXT NOT NULL,
           step_id TEXT,
           type TEXT NOT NULL,
           status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
           attempt INTEGER NOT NULL,
           started_at TEXT NOT NULL,
           finished_at TEXT,
           error TEXT,
           session_id TEXT,
           outputs TEXT NOT NULL DEFAULT '{}',
           state TEXT NOT NULL DEFAULT '{}',
           PRIMARY KEY (run_id, key)
         );`,
  },
];

/** What a run keeps that its API view does not show: the file's text and the environment values it was given. */
export interface StoredRun extends WorkflowRun {
  source: string;
  env: Record<string, string>;
}

/**
 * Where a step is in its work, kept so a daemon restart resumes it rather
 * than starting over: the session it started, the event id its wait counts
 * from, and when its attempt times out.
 */
export interface StepState {
  sessionId?: string;
  /** The prompt has been typed (or given at start). */
  prompted?: boolean;
  /** Only events after this id can end the step's wait. */
  cursor?: number;
  /** Epoch ms when the current attempt times out. */
  deadline?: number;
  /** A shell step's running processes. */
  processGroup?: ProcessGroup;
}

export interface StoredStep extends RunStep {
  state: StepState;
}

interface RunRow {
  id: string;
  name: string;
  file: string;
  source: string;
  vars: string;
  env: string;
  status: RunStatus;
  error: string | null;
  event_cursor: number;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

interface StepRow {
  key: string;
  path: string;
  step_id: string | null;
  type: string;
  status: StepStatus;
  attempt: number;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  session_id: string | null;
  outputs: string;
  state: string;
}

const toRun = (row: RunRow): StoredRun => ({
  id: row.id,
  name: row.name,
  file: row.file,
  source: row.source,
  vars: JSON.parse(row.vars) as Record<string, unknown>,
  env: JSON.parse(row.env) as Record<string, string>,
  status: row.status,
  error: row.error,
  eventCursor: row.event_cursor,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  finishedAt: row.finished_at,
});

/** The API's view of a run: without its source and environment values. */
export const publicRun = ({ source: _source, env: _env, ...run }: StoredRun): WorkflowRun => run;

const toStep = (row: StepRow): StoredStep => ({
  key: row.key,
  path: row.path,
  id: row.step_id,
  type: row.type,
  status: row.status,
  attempt: row.attempt,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  error: row.error,
  sessionId: row.session_id,
  outputs: JSON.parse(row.outputs) as Record<string, unknown>,
  state: JSON.parse(row.state) as StepState,
});

/** Runs and the state of their steps, written as each changes. */
export class RunStore {
  constructor(private readonly store: Store) {}

  async create(run: Omit<StoredRun, 'status' | 'error' | 'createdAt' | 'updatedAt' | 'finishedAt'>): Promise<StoredRun> {
    const now = new Date().toISOString();
    await this.store.run(
      `INSERT INTO workflow_runs (id, name, file, source, vars, env, status, error, event_cursor, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'running', NULL, ?, ?, ?)`,
      [run.id, run.name, run.file, run.source, JSON.stringify(run.vars), JSON.stringify(run.env), run.eventCursor, now, now],
    );
    return this.get(run.id);
  }

  async get(id: string): Promise<StoredRun> {
    const row = await this.store.get<RunRow>('SELECT * FROM workflow_runs WHERE id = ?', [id]);
    if (!row) throw new CodePiperError('not_found', `no workflow run ${id}`);
    return toRun(row);
  }

  /** A full id or a unique prefix. */
  async resolve(ref: string): Promise<StoredRun> {
    return resolveRef(ref, {
      kind: 'workflow run',
      byIdPrefix: async (prefix, limit) =>
        (await this.store.all<RunRow>("SELECT * FROM workflow_runs WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT ?", [likePrefix(prefix), limit])).map(toRun),
      id: (run) => run.id,
      name: (run) => run.name,
    });
  }

  async list(filter: { status?: RunStatus; limit?: number } = {}): Promise<StoredRun[]> {
    const rows = filter.status
      ? await this.store.all<RunRow>('SELECT * FROM workflow_runs WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?', [filter.status, filter.limit ?? 50])
      : await this.store.all<RunRow>('SELECT * FROM workflow_runs ORDER BY created_at DESC, rowid DESC LIMIT ?', [filter.limit ?? 50]);
    return rows.map(toRun);
  }

  async finish(id: string, status: Exclude<RunStatus, 'running'>, error: string | null): Promise<StoredRun> {
    const now = new Date().toISOString();
    await this.store.run("UPDATE workflow_runs SET status = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ? AND status = 'running'", [status, error, now, now, id]);
    return this.get(id);
  }

  async steps(runId: string): Promise<StoredStep[]> {
    return (await this.store.all<StepRow>('SELECT * FROM workflow_steps WHERE run_id = ? ORDER BY seq', [runId])).map(toStep);
  }

  async step(runId: string, key: string): Promise<StoredStep | undefined> {
    const row = await this.store.get<StepRow>('SELECT * FROM workflow_steps WHERE run_id = ? AND key = ?', [runId, key]);
    return row && toStep(row);
  }

  /** Records a step (or a new attempt of it) as running. */
  async begin(runId: string, step: { key: string; path: string; id: string | null; type: string; attempt: number; state: StepState }): Promise<void> {
    const now = new Date().toISOString();
    await this.store.run(
      `INSERT INTO workflow_steps (run_id, key, seq, path, step_id, type, status, attempt, started_at, state)
       VALUES (?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM workflow_steps WHERE run_id = ?), ?, ?, ?, 'running', ?, ?, ?)
       ON CONFLICT (run_id, key) DO UPDATE SET status = 'running', attempt = excluded.attempt, started_at = excluded.started_at,
         finished_at = NULL, error = NULL, session_id = NULL, outputs = '{}', state = excluded.state`,
      [runId, step.key, runId, step.path, step.id, step.type, step.attempt, now, JSON.stringify(step.state)],
    );
  }

  async saveState(runId: string, key: string, state: StepState): Promise<void> {
    await this.store.run('UPDATE workflow_steps SET state = ?, session_id = coalesce(?, session_id) WHERE run_id = ? AND key = ?', [
      JSON.stringify(state),
      state.sessionId ?? null,
      runId,
      key,
    ]);
  }

  async settle(runId: string, key: string, status: Exclude<StepStatus, 'running'>, outputs: Record<string, unknown>, error: string | null): Promise<void> {
    await this.store.run('UPDATE workflow_steps SET status = ?, outputs = ?, error = ?, finished_at = ? WHERE run_id = ? AND key = ?', [
      status,
      JSON.stringify(outputs),
      error,
      new Date().toISOString(),
      runId,
      key,
    ]);
  }

  /**
   * Forgets the steps inside the step at `path` (at `iteration` of the
   * foreach loops around it), so that a new attempt of it runs them again.
   */
  async forgetInner(runId: string, path: string, iteration: readonly number[]): Promise<void> {
    const rows = await this.store.all<{ key: string }>("SELECT key FROM workflow_steps WHERE run_id = ? AND substr(key, 1, ?) = ?", [runId, path.length + 1, `${path}.`]);
    const within = (key: string): boolean => {
      const at = key.indexOf('#');
      const loops = at === -1 ? [] : key.slice(at + 1).split('.').map(Number);
      return iteration.every((i, n) => loops[n] === i);
    };
    for (const { key } of rows.filter((row) => within(row.key))) await this.store.run('DELETE FROM workflow_steps WHERE run_id = ? AND key = ?', [runId, key]);
  }

  /** Every session the run's steps started or prompted. */
  async sessionIds(runId: string): Promise<string[]> {
    const rows = await this.store.all<{ session_id: string }>('SELECT DISTINCT session_id FROM workflow_steps WHERE run_id = ? AND session_id IS NOT NULL', [runId]);
    return rows.map((row) => row.session_id);
  }
}
