import { typeText, type SessionTerminal } from '@codepiper/sessions-contract';
import type { Logger } from '@codepiper/sdk';
import { restoreUserSettings, snapshotUserSettings, type SettingsSnapshot } from './user-settings.js';

const ANSWER_TIMEOUT_MS = 5000;
/** Claude saves the default within 3 s or says it "couldn't confirm"; a write that lands later is still put back. */
const LATE_WRITE_MS = 10_000;
const POLL_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Claude's answer to `/model X`, printed near the top of its screen (2.1.328), not in the last rows. */
const ANSWER = /Set model to|Kept model as|not found|Invalid model/i;

const answerLines = (screen: string): string[] => screen.split('\n').filter((line) => ANSWER.test(line));

/**
 * Types `/model X` and returns once Claude has answered (an answer line that
 * was not on the screen before), so the next prompt goes to the new model.
 * With a conversation under way, Claude first asks to confirm (the cache is
 * lost); choice 1 switches.
 */
export async function typeModelCommand(terminal: SessionTerminal, model: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<'answered' | 'timeout'> {
  const before = new Set(answerLines((await terminal.screen()).text));
  await typeText(terminal, `/model ${model}`, { submit: true, settleMs: 150 });
  let confirmed = false;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(POLL_MS);
    const { text } = await terminal.screen();
    if (!confirmed && /Switch model\?/.test(text) && /Yes, switch/.test(text)) {
      confirmed = true;
      await terminal.pressKeys(['enter']);
      continue;
    }
    if (answerLines(text).some((line) => !before.has(line))) return 'answered';
  }
  return 'timeout';
}

async function restoreAndLog(snapshot: SettingsSnapshot, log: Logger): Promise<boolean> {
  const outcome = await restoreUserSettings(snapshot);
  if (outcome === 'restored') log.info({ file: snapshot.file }, 'put the Claude user settings back after a model switch');
  if (outcome === 'left: changed otherwise') {
    log.warn({ file: snapshot.file }, 'the Claude user settings changed in another way during a model switch; left as they are (they may now name the switched model)');
  }
  return outcome !== 'unchanged';
}

/** Keeps watching for a write Claude had not finished when it answered. */
async function restoreLateWrite(snapshot: SettingsSnapshot, log: Logger): Promise<void> {
  const deadline = Date.now() + LATE_WRITE_MS;
  while (Date.now() < deadline) {
    await sleep(POLL_MS * 2);
    if (await restoreAndLog(snapshot, log)) return;
  }
}

/**
 * Switches the model of a running Claude for that session only. Claude Code
 * 2.1.x saves every interactive `/model X` as the user's default (in
 * `<config dir>/settings.json`) and has no setting to keep it to the session,
 * so the file is snapshotted before and put back, bytes and mode, once Claude
 * has answered.
 */
export async function switchModelForSession(terminal: SessionTerminal, model: string, options: { configDir: string; log: Logger }): Promise<void> {
  const log = options.log.child({ session: terminal.sessionId });
  const snapshot = await snapshotUserSettings(options.configDir).catch((error: unknown) => {
    log.warn({ err: error, configDir: options.configDir }, 'could not read the Claude user settings before a model switch; Claude may save the model as their default');
    return undefined;
  });
  if ((await typeModelCommand(terminal, model)) === 'timeout') log.warn({ model }, 'Claude did not answer /model in time');
  if (!snapshot) return;
  try {
    if (await restoreAndLog(snapshot, log)) return;
  } catch (error) {
    log.error({ err: error, file: snapshot.file }, 'could not put the Claude user settings back after a model switch');
    return;
  }
  void restoreLateWrite(snapshot, log).catch((error: unknown) => log.error({ err: error, file: snapshot.file }, 'could not put the Claude user settings back after a model switch'));
}
