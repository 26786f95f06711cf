import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import type { SessionTerminal } from '@codepiper/sessions-contract';
import { stopClaude } from './stop.js';

/** Claude Code's double-press window: a second Ctrl+C within it exits. */
const WINDOW_MS = 800;

/**
 * Claude Code's exit as the terminal shows it, on a virtual clock: each
 * Ctrl+C reaches it `keyLag(n)` ms after it is pressed (a busy event loop);
 * a first opens the double-press window and shows "again to exit"; a second
 * within the window makes it exit (its screen cleared `clearLagMs` later); a
 * Ctrl+C while it exits is a SIGINT. `spent` first presses go to ending a turn.
 */
class SimulatedClaude {
  readonly pressedAt: number[] = [];
  constructor(private readonly options: { keyLag?: (n: number) => number; clearLagMs?: number; spent?: number } = {}) {}

  private replay(until: number) {
    let windowStart: number | undefined;
    let exitingAt: number | undefined;
    let interrupted = false;
    const lines: [number, number][] = [];
    // Through the terminal in order: a key never overtakes the one before it.
    const arrivals: number[] = [];
    this.pressedAt.forEach((at, n) => arrivals.push(Math.max(arrivals.at(-1) ?? 0, at + (this.options.keyLag?.(n) ?? 5))));
    arrivals.forEach((at, n) => {
      if (at > until) return;
      if (exitingAt !== undefined) interrupted = true;
      else if (n < (this.options.spent ?? 0)) return;
      else if (windowStart !== undefined && at < windowStart + WINDOW_MS) exitingAt = at;
      else {
        windowStart = at;
        lines.push([at, at + WINDOW_MS]);
      }
    });
    return { exitingAt, interrupted, lines };
  }

  get interrupted(): boolean {
    return this.replay(Number.POSITIVE_INFINITY).interrupted;
  }

  get exited(): boolean {
    return this.replay(Date.now()).exitingAt !== undefined;
  }

  readonly terminal: SessionTerminal = {
    sessionId: 's1',
    typeText: async () => undefined,
    pressKeys: async (keys) => {
      assert.deepEqual(keys, ['ctrl+c']);
      this.pressedAt.push(Date.now());
    },
    signal: async () => undefined,
    screen: async () => {
      const now = Date.now();
      const { exitingAt, lines } = this.replay(now);
      const cleared = exitingAt !== undefined && now >= exitingAt + (this.options.clearLagMs ?? 5);
      const asking = lines.some(([from, to]) => from <= now && now < to);
      const text = cleared ? '' : `────\n❯ \n────\n${asking ? '  Press Ctrl-C again to exit' : '  ? for shortcuts'}`;
      return { text, cols: 80, rows: 24, cursor: { x: 0, y: 0 } };
    },
  };
}

/** Runs `stopClaude` on the virtual clock, 10 ms at a time; returns how long it took. */
async function stopOnVirtualClock(claude: SimulatedClaude): Promise<number> {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  try {
    let done = false;
    const stopping = stopClaude(claude.terminal).finally(() => (done = true));
    while (!done && Date.now() < 60_000) {
      await new Promise((resolve) => setImmediate(resolve));
      mock.timers.tick(10);
    }
    await stopping;
    return Date.now();
  } finally {
    mock.timers.reset();
  }
}

describe('stopping Claude Code with its own double Ctrl+C', () => {
  test('at once: two presses, and it exits', async () => {
    const claude = new SimulatedClaude();
    await stopOnVirtualClock(claude);
    assert.equal(claude.exited, true);
    assert.equal(claude.pressedAt.length, 2);
    assert.equal(claude.interrupted, false);
  });

  test('a first press that ends a turn instead: firsts again until the line comes, then the second', async () => {
    const claude = new SimulatedClaude({ spent: 1 });
    await stopOnVirtualClock(claude);
    assert.equal(claude.exited, true);
    assert.equal(claude.interrupted, false, `pressed at ${claude.pressedAt.join(', ')}`);
  });

  test('a second that reaches Claude after its window counts as a first: the second is pressed again', async () => {
    for (const lag of [WINDOW_MS + 300, WINDOW_MS + 2_500]) {
      const claude = new SimulatedClaude({ keyLag: (n) => (n === 1 ? lag : 5) });
      await stopOnVirtualClock(claude);
      assert.equal(claude.exited, true, `a second ${lag} ms late`);
      assert.equal(claude.interrupted, false, `a second ${lag} ms late: pressed at ${claude.pressedAt.join(', ')}`);
    }
  });

  test('a busy Claude that shows the line late and clears its screen late is never pressed while it exits', async () => {
    // The first press reaches it 2.5 s late: by then another first has been pressed, and the two make the exit.
    const claude = new SimulatedClaude({ keyLag: (n) => (n === 0 ? 2_500 : 300), clearLagMs: 1_000 });
    await stopOnVirtualClock(claude);
    assert.equal(claude.exited, true);
    assert.equal(claude.interrupted, false, `pressed at ${claude.pressedAt.join(', ')}`);
  });

  test('a Claude that never answers: the presses stop after a while, unanswered ones never pile up', async () => {
    const claude = new SimulatedClaude({ spent: Number.POSITIVE_INFINITY });
    const took = await stopOnVirtualClock(claude);
    assert.ok(took >= 12_000 && took < 13_000, `gave up after ${took} ms`);
    assert.ok(claude.pressedAt.length <= 7, `${claude.pressedAt.length} presses`);
  });
});
