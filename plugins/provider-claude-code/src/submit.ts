import { CodePiperError, raceTimeout } from '@codepiper/sdk';
import { typeText, type SessionTerminal } from '@codepiper/sessions-contract';

/** How often the screen is looked at while Claude has not confirmed a prompt (its UserPromptSubmit hook). */
const LOOK_MS = 1500;
/** How long a prompt may go unconfirmed and unseen before it counts as lost. */
const CONFIRM_DEADLINE_MS = 20_000;
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

/** The start of a prompt, as Claude shows it: its first line's first 40 characters. */
const promptStart = (text: string): string => text.trim().split('\n')[0]!.slice(0, 40);

/**
 * Whether Claude's input box (the lines from its last `❯`) still holds the
 * start of `text`: it took the text and its Enter as one paste and added a
 * line instead of submitting.
 */
export function inputBoxHolds(screen: string, text: string): boolean {
  const start = promptStart(text);
  return start !== '' && screen.slice(screen.lastIndexOf('❯')).includes(start);
}

/** Whether the conversation above Claude's input box shows the start of `text`: submitted. */
export function conversationShows(screen: string, text: string): boolean {
  const start = promptStart(text);
  return start !== '' && screen.slice(0, Math.max(0, screen.lastIndexOf('❯'))).includes(start);
}

/** How a prompt was taken: confirmed by Claude's hook, seen in its conversation before that (the hook late or absent), or typed (a slash command, which has no hook). */
export type Submission = 'confirmed' | 'shown' | 'typed';

/**
 * Types a prompt and submits it, and makes sure it was submitted: on a busy
 * machine Claude may read the text and its Enter in one go, take them as a
 * paste and add a line instead. Until its UserPromptSubmit hook confirms,
 * Enter is pressed again while the prompt is still in the input box; once
 * the conversation above the box shows it, it was taken (the hook is a
 * process Claude starts, late on a busy machine). A prompt neither confirmed
 * nor shown by the deadline (the keys lost, or still in the box) throws,
 * rather than leave a caller waiting for a turn that never comes. It is never
 * typed twice: a late hook cannot be told from a lost prompt. Slash commands
 * (no hook, and Enter may pick in a dialog they open) are typed once.
 */
export async function submitPrompt(
  terminal: SessionTerminal,
  text: string,
  submissions: PromptSubmissions,
  { deadlineMs = CONFIRM_DEADLINE_MS, lookMs = LOOK_MS }: { deadlineMs?: number; lookMs?: number } = {},
): Promise<Submission> {
  if (text.trim() === '' || text.startsWith('/')) {
    await typeText(terminal, text, { submit: true, settleMs: SETTLE_MS });
    return 'typed';
  }
  const submission = submissions.next(terminal.sessionId);
  await typeText(terminal, text, { submit: true, settleMs: SETTLE_MS });
  const deadline = Date.now() + deadlineMs;
  let retries = 0;
  for (let left = deadlineMs; left > 0; left = deadline - Date.now()) {
    if (await submission.confirmed(Math.min(lookMs, left))) return 'confirmed';
    const screen = (await terminal.screen()).text;
    if (!inputBoxHolds(screen, text)) {
      if (conversationShows(screen, text)) return 'shown';
    } else if (retries < RETRIES) {
      retries++;
      await terminal.pressKeys(['enter']);
    }
  }
  const screen = (await terminal.screen()).text;
  // What the screen held tells keys lost from a dialog in the way; it goes with the error into the log and the reply.
  const details = { screen: lastLines(screen, SCREEN_LINES_KEPT) };
  if (inputBoxHolds(screen, text)) {
    throw new CodePiperError('prompt_not_taken', `Claude Code did not submit the prompt: it is still in its input box after Enter was pressed ${retries + 1} times`, details);
  }
  if (conversationShows(screen, text)) return 'shown';
  throw new CodePiperError('prompt_not_taken', `Claude Code did not take the prompt: no UserPromptSubmit hook within ${deadlineMs / 1000} s, and its screen does not show it`, details);
}

const SCREEN_LINES_KEPT = 15;

/** The last `n` lines of a screen that hold anything, without trailing blanks. */
function lastLines(screen: string, n: number): string[] {
  return screen
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .slice(-n);
}
