import type { SessionTerminal } from '@codepiper/sessions-contract';

/** What Claude says after a first Ctrl+C at its prompt. */
const CTRL_C_AGAIN = /again to exit/i;

export interface StopTiming {
  /** How long a first Ctrl+C may take to show "again to exit" before another first is pressed (one a turn's end took). */
  againWithinMs: number;
  /** Longer than Claude's double-press window (800 ms): a line shown longer than this after our second press is a new one. */
  windowMs: number;
  /** How long the presses go on; then the sessions plugin's stop timeout decides. */
  giveUpAfterMs: number;
  pollMs: number;
}

const TIMING: StopTiming = { againWithinMs: 2_000, windowMs: 1_200, giveUpAfterMs: 12_000, pollMs: 50 };

/** Claude's screen as a stop reads it: blank once it has taken the exit (and after), else asking for a second Ctrl+C or not. */
async function shows(terminal: SessionTerminal): Promise<'exiting' | 'asking' | 'up'> {
  const text = (await terminal.screen().catch(() => undefined))?.text ?? '';
  if (text.trim() === '') return 'exiting';
  return CTRL_C_AGAIN.test(text) ? 'asking' : 'up';
}

/**
 * Ends Claude Code its own way, which gives exit code 0, runs its SessionEnd
 * hook and flushes its transcript (SIGTERM ends it as 143): Ctrl+C, then
 * Ctrl+C again while it says "again to exit". Returns once Claude has taken
 * the exit (it clears its screen); the caller waits for the program to end.
 *
 * A Ctrl+C that reaches Claude while it exits (its terminal back in cooked
 * mode) is a SIGINT that ends it mid-hook, and keys reach a busy Claude
 * late, all at once. So a second is pressed only when the line appears
 * with exactly one press unanswered (two or more: a later one may already
 * be the second), and again only if the line outlives Claude's double-press
 * window after it (that second came too late and counted as a first). A
 * first goes again when no line came for a while: one can go to ending a turn.
 */
export async function stopClaude(terminal: SessionTerminal, timing: StopTiming = TIMING): Promise<void> {
  const giveUpAt = Date.now() + timing.giveUpAfterMs;
  let lastPress = Number.NEGATIVE_INFINITY;
  /** Presses made since the line last appeared. */
  let unanswered = 0;
  let lineShown = false;
  const press = async () => {
    await terminal.pressKeys(['ctrl+c']);
    lastPress = Date.now();
    unanswered += 1;
  };
  while (Date.now() < giveUpAt) {
    const state = await shows(terminal);
    if (state === 'exiting') return;
    if (state === 'asking' && !lineShown) {
      lineShown = true;
      const answered = unanswered;
      unanswered = 0;
      if (answered <= 1) await press();
    } else if (state === 'asking') {
      if (unanswered === 1 && Date.now() - lastPress > timing.windowMs) {
        unanswered = 0;
        await press();
      }
    } else {
      lineShown = false;
      if (Date.now() - lastPress >= timing.againWithinMs) await press();
    }
    await new Promise((resolve) => setTimeout(resolve, timing.pollMs));
  }
}
