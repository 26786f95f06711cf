import { raceTimeout } from '@codepiper/sdk';
import { typeText, type SessionTerminal } from '@codepiper/sessions-contract';

/** How long Claude has to confirm a prompt (its UserPromptSubmit hook) before the input box is looked at. */
const CONFIRM_MS = 1500;
/** Enter pressed again at most this often for one prompt. */
const RETRIES = 3;
/** The pause between the text and its Enter, so that Claude reads them apart. */
const SETTLE_MS = 150;

/** Promises that Claude's UserPromptSubmit hook resolves, one per session waiting for it. */
export class PromptSubmissions {
  private readonly waiting = new Map<string, () => void>();

  /** Called from the UserPromptSubmit hook. */
  submitted(sessionId: string): void {
    this.waiting.get(sessionId)?.();
    this.waiting.delete(sessionId);
  }

  /** Resolves true once the session's next prompt is confirmed, false after `ms`. */
  next(sessionId: string): { confirmed(ms: number): Promise<boolean> } {
    const confirmation = new Promise<true>((resolve) => this.waiting.set(sessionId, () => resolve(true)));
    return {
      confirmed: (ms) => raceTimeout(confirmation, ms, false),
    };
  }
}

/**
 * Whether Claude's input box (the lines from its last `❯`) still holds the
 * start of `text`: it took the text and its Enter as one paste and added a
 * line instead of submitting.
 */
export function inputBoxHolds(screen: string, text: string): boolean {
  const box = screen.slice(screen.lastIndexOf('❯'));
  const start = text.trim().split('\n')[0]!.slice(0, 40);
  return start !== '' && box.includes(start);
}

/**
 * Types a prompt and submits it, and makes sure it was submitted: on a busy
 * machine Claude may read the text and its Enter in one go, take them as a
 * paste and add a line instead. Until its UserPromptSubmit hook confirms,
 * Enter is pressed again while the prompt is still in the input box. Slash
 * commands (no hook, and Enter may pick in a dialog they open) are typed once.
 */
export async function submitPrompt(terminal: SessionTerminal, text: string, submissions: PromptSubmissions): Promise<void> {
  if (text.trim() === '' || text.startsWith('/')) return typeText(terminal, text, { submit: true, settleMs: SETTLE_MS });
  const submission = submissions.next(terminal.sessionId);
  await typeText(terminal, text, { submit: true, settleMs: SETTLE_MS });
  for (let retry = 0; retry < RETRIES; retry++) {
    if (await submission.confirmed(CONFIRM_MS)) return;
    const screen = await terminal.screen();
    if (!inputBoxHolds(screen.text, text)) return;
    await terminal.pressKeys(['enter']);
  }
}
