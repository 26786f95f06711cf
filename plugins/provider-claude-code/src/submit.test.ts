import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CodePiperError } from '@codepiper/sdk';
import type { KeyName, SessionTerminal } from '@codepiper/sessions-contract';
import { inputBoxHolds, PromptSubmissions, submitPrompt } from './submit.js';

const RULE = '─'.repeat(40);

/** A terminal that records what is typed and pressed, and shows the screen `screenFor` draws from it. */
function fakeTerminal(screenFor: (typed: string, enters: number) => string, onEnter: (enters: number) => void = () => undefined) {
  const log: string[] = [];
  let typed = '';
  let enters = 0;
  const terminal: SessionTerminal = {
    sessionId: 's1',
    typeText: async (text) => void ((typed += text), log.push(`type ${text}`)),
    pressKeys: async (keys: readonly KeyName[]) => {
      log.push(`press ${keys.join(' ')}`);
      if (keys.includes('enter')) onEnter(++enters);
    },
    signal: async () => undefined,
    screen: async () => ({ text: screenFor(typed, enters), cols: 80, rows: 24, cursor: { x: 0, y: 0 } }),
  };
  return { terminal, log };
}

describe('submitting a prompt to Claude Code', () => {
  test('the input box is what follows the last ❯', () => {
    assert.equal(inputBoxHolds(`> fix it\n${RULE}\n❯ fix the tests\n\n${RULE}`, 'fix the tests'), true);
    assert.equal(inputBoxHolds(`❯ fix the tests\n⏺ On it\n${RULE}\n❯ \n${RULE}`, 'fix the tests'), false);
  });

  test('confirmed by the UserPromptSubmit hook: Enter once', async () => {
    const submissions = new PromptSubmissions();
    const { terminal, log } = fakeTerminal(() => '❯ ', () => submissions.submitted('s1'));
    await submitPrompt(terminal, 'run the tests', submissions);
    assert.deepEqual(log, ['type run the tests', 'press enter']);
  });

  test('taken as a paste (the prompt still in the input box, no hook): Enter again until it is submitted', async () => {
    const submissions = new PromptSubmissions();
    // The first Enter only adds a line; the second submits.
    const { terminal, log } = fakeTerminal(
      (typed, enters) => (enters < 2 ? `${RULE}\n❯ ${typed}\n\n${RULE}` : `> ${typed}\n${RULE}\n❯ \n${RULE}`),
      (enters) => enters === 2 && submissions.submitted('s1'),
    );
    await submitPrompt(terminal, 'run the tests', submissions);
    assert.deepEqual(log, ['type run the tests', 'press enter', 'press enter']);
  });

  test('a hook that comes after the first look, the screen not showing the prompt yet: confirmed, typed once', async () => {
    const submissions = new PromptSubmissions();
    const { terminal, log } = fakeTerminal(() => `${RULE}\n❯ \n${RULE}`);
    setTimeout(() => submissions.submitted('s1'), 1800);
    assert.equal(await submitPrompt(terminal, 'run the tests', submissions, { deadlineMs: 5000 }), 'confirmed');
    assert.deepEqual(log, ['type run the tests', 'press enter']);
  });

  test('no hook yet but the conversation shows the prompt (a late hook, or hooks off): taken, no more Enter', async () => {
    const submissions = new PromptSubmissions();
    const { terminal, log } = fakeTerminal((typed) => `❯ ${typed}\n${RULE}\n❯ \n${RULE}`);
    const started = Date.now();
    assert.equal(await submitPrompt(terminal, 'run the tests', submissions, { lookMs: 100 }), 'shown');
    assert.ok(Date.now() - started < 10_000, 'at the first look, not at the deadline');
    assert.deepEqual(log, ['type run the tests', 'press enter']);
  });

  test('keys lost (no hook, the prompt nowhere on the screen): an error, and the prompt is not typed again', async () => {
    const submissions = new PromptSubmissions();
    const { terminal, log } = fakeTerminal(() => `Do you trust the files in this folder?\n\n${RULE}\n❯ \n${RULE}\n\n`);
    await assert.rejects(submitPrompt(terminal, 'run the tests', submissions, { deadlineMs: 200 }), (error: CodePiperError) => {
      assert.match(error.message, /did not take the prompt: no UserPromptSubmit hook within 0.2 s, and its screen does not show it/);
      assert.deepEqual(error.details, { screen: ['Do you trust the files in this folder?', RULE, '❯', RULE] }, 'the screen it saw, blank lines left out');
      return true;
    });
    assert.deepEqual(log, ['type run the tests', 'press enter']);
  });

  test('still in the input box after every Enter: an error saying so', async () => {
    const submissions = new PromptSubmissions();
    const { terminal, log } = fakeTerminal((typed) => `${RULE}\n❯ ${typed}\n\n${RULE}`);
    await assert.rejects(submitPrompt(terminal, 'run the tests', submissions, { deadlineMs: 2000, lookMs: 100 }), /did not submit the prompt: it is still in its input box after Enter was pressed 4 times/);
    assert.deepEqual(log, ['type run the tests', 'press enter', 'press enter', 'press enter', 'press enter']);
  });

  test('slash commands are typed once: they fire no hook, and a second Enter could pick in the dialog they open', async () => {
    const submissions = new PromptSubmissions();
    const { terminal, log } = fakeTerminal((typed) => `❯ ${typed}`);
    await submitPrompt(terminal, '/compact', submissions);
    assert.deepEqual(log, ['type /compact', 'press enter']);
  });
});
