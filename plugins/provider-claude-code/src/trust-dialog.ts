import { CodePiperError } from '@codepiper/sdk';
import type { SessionTerminal } from '@codepiper/sessions-contract';

/**
 * Claude Code's folder-trust question. Seen in 2.1.328: "Quick safety check: Is
 * this a project you created or one you trust?" with `❯ No, exit` selected
 * above `Yes, I trust this folder`; older versions asked "Do you trust the
 * files in this folder?" with `Yes, proceed` first.
 */
const TRUST_QUESTION = /Is this a project you created or one you trust\?|Do you trust the files in this folder\?/;
const SELECTED = { yes: /❯\s*(?:\d+\.\s*)?Yes, (?:I trust this folder|proceed)/, no: /❯\s*(?:\d+\.\s*)?No, exit/ };
const POLL_MS = 150;
/** Keys pressed as the dialog is first drawn can be lost: it is left this long first. */
const FIRST_KEY_AFTER_MS = 500;
/** A move the screen has not shown after this long counts as lost, and is pressed again. */
const MOVE_LOST_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function showsTrustDialog(screen: string): boolean {
  return TRUST_QUESTION.test(screen);
}

/** The error of a first input that would have landed in the trust dialog (where Enter picks "No, exit"). */
export function folderNotTrusted(cwd: string): CodePiperError {
  return new CodePiperError(
    'folder_not_trusted',
    `Claude Code asks whether to trust ${cwd}; nothing was typed into its question. Start with --trust, run claude there once, or answer it in the session's terminal`,
  );
}

/** What a session's start came to: Claude started (SessionStart), its trust question is left to a person, or neither in time. */
export type StartOutcome = 'started' | 'untrusted' | 'timeout';

/** Which answer the dialog shows selected, if either. */
const selectedAnswer = (screen: string): 'yes' | 'no' | undefined => (SELECTED.yes.test(screen) ? 'yes' : SELECTED.no.test(screen) ? 'no' : undefined);

/**
 * Selects the answer in the trust dialog, then confirms: Enter is pressed
 * only while that answer is the selected choice ("Yes" sits below "No, exit").
 * A move is pressed again only once the screen shows the last one taken, or
 * after MOVE_LOST_MS without it: on a busy machine a second "down" pressed
 * 300 ms after the first, both read late, moved the selection round to "No,
 * exit" under the Enter meant for "Yes", and Claude exited.
 */
export async function answerTrust(terminal: SessionTerminal, answer: 'yes' | 'no', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  /** A move pressed and not yet shown: what was selected when it was pressed, and when. */
  let pending: { from: 'yes' | 'no' | undefined; at: number } | undefined;
  let moves = 0;
  let firstSeen: number | undefined;
  while (Date.now() < deadline) {
    const { text } = await terminal.screen();
    if (!showsTrustDialog(text)) return;
    firstSeen ??= Date.now();
    const selected = selectedAnswer(text);
    const settled = Date.now() - firstSeen >= FIRST_KEY_AFTER_MS;
    if (settled && (!pending || selected !== pending.from || Date.now() - pending.at >= MOVE_LOST_MS)) {
      pending = undefined;
      if (selected === answer) {
        await terminal.pressKeys(['enter']);
        if (await dialogGone(terminal, deadline)) return;
        break;
      }
      if (moves < 3) {
        moves++;
        pending = { from: selected, at: Date.now() };
        await terminal.pressKeys([answer === 'yes' ? 'down' : 'up']);
      }
    }
    await sleep(POLL_MS);
  }
  throw new CodePiperError('trust_dialog', `could not select "${answer === 'yes' ? 'Yes' : 'No'}" in Claude Code's trust dialog`);
}

async function dialogGone(terminal: SessionTerminal, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    if (!showsTrustDialog((await terminal.screen()).text)) return true;
  }
  return false;
}

/**
 * Watches a new session until Claude has started (`ready`: its SessionStart
 * hook, which comes only after the folder is trusted) or shows its trust
 * question. With `trust`, the question is answered "Yes" and the watch goes on.
 */
export async function settleStart(terminal: SessionTerminal, options: { ready: Promise<void>; trust: boolean; timeoutMs: number }): Promise<StartOutcome> {
  let started = false;
  void options.ready.then(() => (started = true));
  let deadline = Date.now() + options.timeoutMs;
  while (!started && Date.now() < deadline) {
    const { text } = await terminal.screen();
    if (showsTrustDialog(text)) {
      if (!options.trust) return 'untrusted';
      await answerTrust(terminal, 'yes');
      // Claude starts only now: give it the whole wait again.
      deadline = Date.now() + options.timeoutMs;
    }
    await sleep(POLL_MS);
  }
  return started ? 'started' : 'timeout';
}
