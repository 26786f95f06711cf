import type { Logger } from '@codepiper/sdk';
import type { SessionStatus } from '@codepiper/sessions-contract';
import type { TmuxServer } from './tmux/index.js';

interface Watched {
  stop: () => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Status for agents known only through their terminal: `working` while the
 * session prints, `idle` once its output has been quiet for the provider's
 * `idleAfterMs`. One output watch and at most one timer per such session.
 */
export class OutputSettling {
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly tmux: TmuxServer,
    private readonly setStatus: (sessionId: string, status: SessionStatus) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  follow(session: { id: string; tmuxSession: string }, idleAfterMs: number): void {
    if (this.watched.has(session.id)) return;
    const report = (status: SessionStatus) =>
      void this.setStatus(session.id, status).catch((error: unknown) => this.log.warn({ err: error, session: session.id }, 'could not record a status'));
    const entry: Watched = { stop: () => undefined, timer: undefined };
    const quietAfterOutput = (): void => {
      if (entry.timer) clearTimeout(entry.timer);
      else report('working');
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        report('idle');
      }, idleAfterMs);
    };
    entry.stop = this.tmux.watch(session.tmuxSession, { snapshot: false, onData: quietAfterOutput, onEnd: () => this.unfollow(session.id) });
    this.watched.set(session.id, entry);
    quietAfterOutput();
  }

  unfollow(sessionId: string): void {
    const entry = this.watched.get(sessionId);
    if (!entry) return;
    this.watched.delete(sessionId);
    if (entry.timer) clearTimeout(entry.timer);
    entry.stop();
  }

  close(): void {
    for (const id of [...this.watched.keys()]) this.unfollow(id);
  }
}
