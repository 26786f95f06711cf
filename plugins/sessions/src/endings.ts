import type { KeyedLock, Logger } from '@codepiper/sdk';
import { isFinished } from '@codepiper/sessions-contract';
import type { OutputSettling } from './output-settling.js';
import type { SessionRepository, StoredSession } from './repository.js';
import type { TmuxServer } from './tmux/index.js';

/** How a session ended, as recorded. */
export interface Outcome {
  status: 'exited' | 'crashed';
  exitCode: number | null;
  detail: string | null;
}

/** A program that died: its exit code, or the signal that killed it. */
export const deathOutcome = (exitCode: number | null, signal: number | null): Outcome => ({ status: 'exited', exitCode, detail: signal ? `killed by signal ${signal}` : null });

/** After a failed write of a session's end, the first wait before trying again; it doubles up to the max. */
const RECORD_RETRY_MS = 1_000;
const RECORD_RETRY_MAX_MS = 30_000;

export interface SessionEndingsDeps {
  repo: SessionRepository;
  tmux: TmuxServer;
  log: Logger;
  /** The sessions' own locks: an end waits for a launch still under way. */
  locks: KeyedLock;
  settling: OutputSettling;
  emit: (sessionId: string, type: string, payload: unknown) => Promise<void>;
  reportProblem: (key: string, message: string | null) => void;
}

/**
 * Recording the end of sessions: once per session, whoever notices it first
 * (its death, a kill, a stop's timeout, a start that failed after launch),
 * and again until the database takes it.
 */
export class SessionEndings {
  /** Sessions being finished, so a death noticed twice is recorded once. */
  private readonly finishing = new Map<string, Promise<StoredSession>>();
  /** Callers of `whenFinished` waiting for the program to end. */
  private readonly waiters = new Map<string, ((session: StoredSession) => void)[]>();
  private closed = false;

  constructor(private readonly deps: SessionEndingsDeps) {}

  /**
   * Records the end of a session once: its last screen, status and exit code,
   * then removes its tmux session. Waits for a launch still under way.
   */
  finish({ id }: { id: string }, outcome: Outcome): Promise<StoredSession> {
    const pending = this.finishing.get(id);
    if (pending) return pending;
    const { repo, tmux, log } = this.deps;
    const done = this.deps.locks.run(id, async () => {
      const session = await repo.existing(id);
      if (isFinished(session.status)) return session;
      this.deps.settling.unfollow(id);
      const lastScreen = session.tmuxPane ? await tmux.screen(session.tmuxPane).catch(() => null) : null;
      // Recorded first: should the write fail (a full disk), the dead pane still holds the exit status.
      const ended = await repo.update(id, {
        status: outcome.status,
        statusDetail: outcome.detail,
        exitCode: outcome.exitCode,
        endedAt: new Date().toISOString(),
        lastScreen,
      });
      log.info({ session: id, status: outcome.status, exitCode: outcome.exitCode, detail: outcome.detail }, 'session ended');
      await tmux.killSession(session.tmuxSession).catch(() => undefined);
      await this.deps.emit(id, 'session.status', { from: session.status, to: outcome.status, detail: outcome.detail });
      await this.deps.emit(id, 'session.exited', { status: outcome.status, exitCode: outcome.exitCode, detail: outcome.detail });
      return ended;
    });
    this.finishing.set(id, done);
    done
      .then(
        (ended) => {
          this.waiters.get(id)?.forEach((resolve) => resolve(ended));
          this.waiters.delete(id);
        },
        () => undefined,
      )
      .finally(() => this.finishing.delete(id));
    return done;
  }

  /** Like `finish`, but an end the database cannot take now (a full disk) is tried again until it can, or the daemon stops. */
  async finishSurely(session: StoredSession, outcome: Outcome): Promise<void> {
    const problem = `session-end:${session.id}`;
    for (let attempt = 1, delayMs = RECORD_RETRY_MS; ; attempt++, delayMs = Math.min(delayMs * 2, RECORD_RETRY_MAX_MS)) {
      try {
        await this.finish(session, outcome);
        if (attempt > 1) {
          this.deps.log.info({ session: session.id }, `recorded the end of session ${session.id.slice(0, 8)} at attempt ${attempt}`);
          this.deps.reportProblem(problem, null);
        }
        return;
      } catch (error) {
        if (this.closed) throw error;
        this.deps.log.error({ err: error, session: session.id }, `recording the end of session ${session.id.slice(0, 8)} failed; trying again in ${delayMs / 1000} s`);
        const ended = outcome.exitCode === null ? outcome.status : `exit code ${outcome.exitCode}`;
        this.deps.reportProblem(problem, `the end of session ${session.name} (${ended}) is not recorded yet: ${error instanceof Error ? error.message : String(error)}; trying again`);
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    }
  }

  /** The session once its end is recorded. */
  whenFinished(id: string): Promise<StoredSession> {
    return this.finishing.get(id) ?? new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  /** The daemon is stopping: an end that cannot be written is no longer tried again. */
  close(): void {
    this.closed = true;
  }
}
