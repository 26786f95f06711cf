import type { SessionTerminal } from '@codepiper/sessions-contract';

/**
 * Claude Code's own permission prompt, as 2.1.328 draws it: a question ("Do
 * you want to proceed?", "Do you want to make this edit…"), numbered choices
 * with `1. Yes` first, and "Esc to cancel" below.
 */
const DIALOG = [/Do you want to /, /\b1\. Yes\b/, /Esc to cancel/];
const POLL_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function showsPermissionDialog(screen: string): boolean {
  return DIALOG.every((pattern) => pattern.test(screen));
}

/** Gives a person's answer in the prompt: `1` picks "Yes" (once), Esc refuses and interrupts Claude's turn. */
export async function answerPermissionDialog(terminal: SessionTerminal, answer: 'allow' | 'deny'): Promise<void> {
  if (!showsPermissionDialog((await terminal.screen()).text)) return;
  if (answer === 'allow') await terminal.typeText('1');
  else await terminal.pressKeys(['escape']);
}

/** What Claude shows once a person refused at its prompt: the turn is interrupted. */
const INTERRUPTED = /Interrupted/;
/** How long after the prompt left the screen Claude's "Interrupted" may take to show. */
const INTERRUPT_SHOWS_MS = 2_000;

/**
 * Waits until the prompt leaves the screen and tells how it was answered in
 * the terminal: `no` when Claude shows its turn interrupted (or the session is
 * gone), `yes` otherwise. Undefined when `done` aborts first.
 */
export async function answeredOnScreen(terminal: SessionTerminal, done: AbortSignal): Promise<'yes' | 'no' | undefined> {
  let goneAt: number | undefined;
  while (!done.aborted) {
    const screen = await terminal.screen().catch(() => undefined);
    if (!screen || (goneAt !== undefined && INTERRUPTED.test(screen.text))) return 'no';
    if (goneAt === undefined && !showsPermissionDialog(screen.text)) goneAt = Date.now();
    if (goneAt !== undefined && Date.now() - goneAt >= INTERRUPT_SHOWS_MS) return 'yes';
    await sleep(goneAt === undefined ? POLL_MS : POLL_MS / 5);
  }
  return undefined;
}
