import type { Notice } from './messages.js';

/** How long a session's permission wait is held back: its question, if it has one, is published within milliseconds. */
export const WAIT_GRACE_MS = 1000;

/**
 * Passes notices on in order, except that a session starting to wait is held
 * for a moment: a Claude permission request first sets the session waiting,
 * then asks the question (a pending approval), and the question's notice,
 * with Approve and Deny, is the one to send. Any later notice of the session
 * drops the held one.
 */
export class WaitNotices {
  private readonly held = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly send: (notice: Notice) => void,
    private readonly graceMs = WAIT_GRACE_MS,
  ) {}

  /** A notice of an event, in event order; `enabled` says whether its kind is sent at all. */
  notice(notice: Notice, enabled: boolean): void {
    this.drop(notice.sessionId);
    if (!enabled) return;
    if (!notice.waiting) {
      this.send(notice);
      return;
    }
    const timer = setTimeout(() => {
      this.held.delete(notice.sessionId);
      this.send(notice);
    }, this.graceMs);
    timer.unref();
    this.held.set(notice.sessionId, timer);
  }

  close(): void {
    for (const timer of this.held.values()) clearTimeout(timer);
    this.held.clear();
  }

  private drop(sessionId: string): void {
    clearTimeout(this.held.get(sessionId));
    this.held.delete(sessionId);
  }
}
