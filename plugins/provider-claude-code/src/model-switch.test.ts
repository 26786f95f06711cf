import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KeyName, SessionTerminal } from '@codepiper/sessions-contract';
import { typeModelCommand } from './model-switch.js';

/**
 * Claude's screen as 2.1.328 draws it after `/model X`: the answer near the
 * top, then the rest of the screen below (30 rows), as a fake terminal.
 */
function claudeScreen(options: { asksFirst: boolean; earlier?: string }) {
  const pressed: string[] = [];
  let typed = false;
  let asking = false;
  let answered = false;
  const rows = (top: string[]) => [...top, ...Array.from({ length: 30 }, (_, i) => (i === 27 ? '❯ ' : ''))].join('\n');
  const terminal: SessionTerminal = {
    sessionId: 's1',
    typeText: async () => void (typed = true),
    pressKeys: async (keys: readonly KeyName[]) => {
      pressed.push(...keys);
      if (keys.includes('enter') && typed && !answered) {
        if (options.asksFirst && !asking) asking = true;
        else answered = true;
      }
    },
    signal: async () => undefined,
    screen: async () => {
      const earlier = options.earlier ? [options.earlier] : [];
      const top = answered ? [...earlier, '  ⎿  Set model to Haiku 4.5'] : asking ? [...earlier, ' Switch model?', ' ❯ 1. Yes, switch', '   2. No'] : earlier;
      return { text: rows(top), cols: 80, rows: 32, cursor: { x: 0, y: 0 } };
    },
  };
  return { terminal, pressed };
}

describe('switching Claude’s model', () => {
  test('the answer near the top of the screen ends the wait', async () => {
    const fake = claudeScreen({ asksFirst: false });
    assert.equal(await typeModelCommand(fake.terminal, 'haiku', 3_000), 'answered');
  });

  test('"Switch model?" is answered with choice 1, then the answer ends the wait', async () => {
    const fake = claudeScreen({ asksFirst: true });
    assert.equal(await typeModelCommand(fake.terminal, 'haiku', 3_000), 'answered');
    assert.deepEqual(fake.pressed, ['enter', 'enter']);
  });

  test('the answer to an earlier switch, still on screen, is not taken for this one', async () => {
    const fake = claudeScreen({ asksFirst: false, earlier: '  ⎿  Set model to Sonnet 4.6' });
    const never: SessionTerminal = { ...fake.terminal, pressKeys: async () => undefined };
    assert.equal(await typeModelCommand(never, 'haiku', 1_000), 'timeout');
  });
});
