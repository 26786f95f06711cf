import { raceTimeout } from '@codepiper/sdk';

/** The longest one client's connecting, or one change once begun, holds up the others: one that never ends must not stop them all. */
const TURN_LIMIT_MS = 3_000;

/**
 * tmux 3.3a writes some notifications (`%sessions-changed`, `%client-detached`...)
 * to every control client, one still connecting too, whose control state does
 * not exist yet: the server crashes (dmesg: "segfault at 20 ... tmux[3da13]",
 * control_write). A client is in that state from its first identify message to
 * its last, which the server reads in separate turns of its loop (two carry file
 * descriptors). So what we do that makes tmux send such a notification (a
 * change: making or killing a session, a client of ours leaving) never overlaps
 * a client of ours connecting, and ours connect one at a time. Changes run side
 * by side.
 *
 * A client connecting waits for the changes under way, so a change must never
 * wait for a client to connect (the channel reconnecting, say): it works with
 * clients already connected.
 */
export class ControlGate {
  /** The turn of the client connecting last (settled once it has connected, or failed to). */
  private turn: Promise<void> = Promise.resolve();
  private readonly changes = new Set<Promise<void>>();

  /**
   * @param settle Resolves once the server has taken in what happened before it
   *   was called (a round trip through a client still connected): a client's
   *   leaving is read by the server after its process has ended, and notified then.
   */
  constructor(private readonly settle: () => Promise<void>) {}

  /**
   * Runs `connect` (which starts a client and answers once it has connected)
   * after the clients and changes asked for before it; those asked for later
   * wait until it settles.
   */
  connect(connect: () => Promise<void>): void {
    const [previous, changes] = [this.turn, [...this.changes]];
    this.turn = (async () => {
      await previous;
      await Promise.all(changes);
      try {
        await raceTimeout(connect(), TURN_LIMIT_MS);
      } catch {
        // The client reports its own failure; the turn is over.
      }
    })();
  }

  /** Runs `work` once the clients asked for before it have connected; those asked for later wait until it settles. */
  change<T>(work: () => Promise<T>): Promise<T> {
    const done = this.turn.then(work);
    const settled = this.turn.then(() => raceTimeout(done.then(ignore, ignore), TURN_LIMIT_MS)).then(ignore);
    this.changes.add(settled);
    void settled.then(() => this.changes.delete(settled));
    return done;
  }

  /**
   * Ends a client of ours, or a session one of ours is attached to (`end`), as
   * a change that lasts until the server has taken in the client's leaving.
   */
  leave<T>(end: () => T | Promise<T>, ended: Promise<void>): Promise<T> {
    return this.change(async () => {
      const result = await end();
      await raceTimeout(ended, TURN_LIMIT_MS);
      await this.settle();
      return result;
    });
  }
}

const ignore = (): void => undefined;
