import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KeyName, SessionTerminal } from '@codepiper/sessions-contract';
import { answerTrust, settleStart, showsTrustDialog } from './trust-dialog.js';

/** The question as Claude Code 2.1.328 draws it, with choice `selected` (0: No, 1: Yes) marked. */
function dialog(selected: number): string {
  const choices = ['No, exit', 'Yes, I trust this folder'].map((c, i) => `${i === selected ? ' ❯' : '  '} ${c}`);
  return [' Accessing workspace:', ' /tmp/x', ' Quick safety check: Is this a project you created or one you trust? (Like your own code...', ...choices, ' Enter to confirm · Esc to cancel'].join('\n');
}

/**
 * Claude's trust question on a fake terminal: down/up move the selection,
 * enter answers it. `lagMs`: keys take effect that late, in order (a busy
 * machine); `wrap`: a move past the last choice goes round to the first.
 */
function trustTerminal({ lagMs = 0, wrap = false } = {}) {
  const log: string[] = [];
  let selected = 0;
  let answered: 'yes' | 'no' | undefined;
  const move = (by: number) => (selected = wrap ? (selected + by + 2) % 2 : Math.min(1, Math.max(0, selected + by)));
  const take = (keys: readonly KeyName[]) => {
    for (const key of keys) {
      if (answered) return;
      if (key === 'down') move(1);
      if (key === 'up') move(-1);
      if (key === 'enter') answered = selected === 1 ? 'yes' : 'no';
    }
  };
  const terminal: SessionTerminal = {
    sessionId: 's1',
    typeText: async (text) => void log.push(`type ${text}`),
    pressKeys: async (keys: readonly KeyName[]) => {
      log.push(`press ${keys.join(' ')}`);
      if (lagMs === 0) take(keys);
      else setTimeout(() => take(keys), lagMs);
    },
    signal: async () => undefined,
    screen: async () => ({ text: answered ? '❯ ' : dialog(selected), cols: 80, rows: 24, cursor: { x: 0, y: 0 } }),
  };
  return { terminal, log, answer: () => answered };
}

describe('Claude Code\'s trust question', () => {
  test('is told apart from the input line', () => {
    assert.equal(showsTrustDialog(dialog(0)), true);
    assert.equal(showsTrustDialog('─────\n❯ \n─────'), false);
  });

  test('accepting selects "Yes" first: Enter is never pressed on "No, exit"', async () => {
    const fake = trustTerminal();
    await answerTrust(fake.terminal, 'yes');
    assert.equal(fake.answer(), 'yes');
    assert.deepEqual(fake.log, ['press down', 'press enter']);
  });

  test('on a busy machine (keys read late, the selection going round), one move is pressed, and Enter only once "Yes" shows', async () => {
    const fake = trustTerminal({ lagMs: 700, wrap: true });
    await answerTrust(fake.terminal, 'yes');
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(fake.answer(), 'yes');
    assert.deepEqual(fake.log, ['press down', 'press enter']);
  });

  test('refusing with "Yes" selected moves back to "No, exit" before Enter', async () => {
    const fake = trustTerminal();
    await fake.terminal.pressKeys(['down']);
    await answerTrust(fake.terminal, 'no');
    assert.equal(fake.answer(), 'no');
    assert.deepEqual(fake.log, ['press down', 'press up', 'press enter']);
  });

  test('without trust, the start stops at the question and nothing is typed or pressed', async () => {
    const fake = trustTerminal();
    const outcome = await settleStart(fake.terminal, { ready: new Promise(() => undefined), trust: false, timeoutMs: 2000 });
    assert.equal(outcome, 'untrusted');
    assert.deepEqual(fake.log, []);
  });

  test('with trust, the question is answered and the start goes on until SessionStart', async () => {
    const fake = trustTerminal();
    let started = () => {};
    const ready = new Promise<void>((resolve) => (started = resolve));
    const outcome = settleStart(fake.terminal, { ready, trust: true, timeoutMs: 2000 });
    setTimeout(() => started(), 600);
    assert.equal(await outcome, 'started');
    assert.equal(fake.answer(), 'yes');
  });
});
