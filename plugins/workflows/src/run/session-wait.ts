import { TURN_ENDED_EVENT, type TurnEnded } from '@codepiper/sessions-contract';
import type { CodePiperEvent, EventLog } from '@codepiper/events-contract';
import type { WaitFor } from '../ast.js';
import { formatDuration } from '../duration.js';
import { StepFailure } from './interruption.js';

const PAGE = 500;

/** What ended a wait: the event, and the step outputs it gives (`result`, `exit_code`). */
export interface WaitOutcome {
  event: CodePiperEvent;
  result: string | null;
  exitCode?: number | null;
}

const describeWait = (wait: WaitFor): string => ('until' in wait ? wait.until : `event ${wait.event}`);

const typeMatches = (pattern: string, type: string): boolean => (pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern);

/** The outcome an event gives the wait, undefined if it does not end it; throws StepFailure if the wait can no longer end. */
function judge(wait: WaitFor, event: CodePiperEvent): WaitOutcome | undefined {
  const payload = (event.payload ?? {}) as Record<string, unknown>;
  if ('event' in wait) {
    if (typeMatches(wait.event, event.type)) return { event, result: JSON.stringify(event.payload) };
  } else if (wait.until === 'idle_prompt' && event.type === TURN_ENDED_EVENT) {
    const turn = payload as unknown as TurnEnded;
    if (turn.error) throw new StepFailure(`the turn ended on an error: ${turn.error}`);
    return { event, result: turn.lastMessage };
  } else if (wait.until === 'permission' && event.type === 'session.status' && payload.to === 'waiting') {
    return { event, result: typeof payload.detail === 'string' ? payload.detail : null };
  }
  if (event.type === 'session.exited') {
    const exitCode = typeof payload.exitCode === 'number' ? payload.exitCode : null;
    if ('until' in wait && wait.until === 'exit') return { event, result: null, exitCode };
    // Some events come after the end (its worktree's git.changed at exit, git.merged when a person merges): an event wait its timeout bounds goes on.
    if ('event' in wait && wait.timeoutMs !== undefined) return undefined;
    const hint = 'event' in wait ? ' (give the wait a timeout to wait on after the session ends)' : '';
    throw new StepFailure(`the session ended (${exitCode === null ? String(payload.detail ?? payload.status) : `exit code ${exitCode}`}) before ${describeWait(wait)}${hint}`, {
      exit_code: exitCode,
    });
  }
  return undefined;
}

/**
 * Waits for the first event of `sessionId` after event id `after` that ends
 * `wait`: events stored since then (a restart may have come between) and then
 * live ones. Rejects with the signal's reason when it aborts, and with a
 * StepFailure when the wait's own timeout passes or the session ends first.
 */
export function waitForSession(events: EventLog, sessionId: string, wait: WaitFor, after: number, signal: AbortSignal): Promise<WaitOutcome> {
  return new Promise((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      unsubscribe();
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      settle();
    };
    const consider = (event: CodePiperEvent) => {
      if (done || event.id <= after) return;
      try {
        const outcome = judge(wait, event);
        if (outcome) finish(() => resolve(outcome));
      } catch (error) {
        finish(() => reject(error as Error));
      }
    };
    const onAbort = () => finish(() => reject(signal.reason as Error));
    // Subscribe before looking back, so nothing falls between the two; live
    // events wait until the stored ones are judged, so they count in order.
    let pending: CodePiperEvent[] | undefined = [];
    const unsubscribe = events.subscribe({ sessionId }, (event) => (pending ? pending.push(event) : consider(event)));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (wait.timeoutMs !== undefined) {
      timer = setTimeout(() => finish(() => reject(new StepFailure(`no ${describeWait(wait)} within ${formatDuration(wait.timeoutMs as number)}`))), wait.timeoutMs);
    }
    void (async () => {
      let cursor = after;
      for (;;) {
        const page = await events.list({ sessionId, after: cursor, limit: PAGE });
        for (const event of page) consider(event);
        cursor = page.at(-1)?.id ?? cursor;
        if (page.length < PAGE || done) break;
      }
      const live = pending ?? [];
      pending = undefined;
      for (const event of live) if (event.id > cursor) consider(event);
    })().catch((error: unknown) => finish(() => reject(error as Error)));
  });
}
