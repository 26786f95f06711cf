import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodePiperEvent } from '@codepiper/events-contract';
import { kindOf, notificationText } from './notifications.js';

const event = (type: string, payload: unknown): CodePiperEvent => ({ id: 1, sessionId: 's1', type, ts: '2026-01-01T00:00:00.000Z', source: 'sessions', payload });
const session = { id: 's1', name: 'fix-tests', provider: 'claude-code', cwd: '/repo' };

describe('which events are notifications', () => {
  it('takes a wait, a finished turn and an exit, and nothing else', () => {
    const cases: [CodePiperEvent, string | undefined, string | undefined][] = [
      [event('session.status', { from: 'working', to: 'waiting', detail: 'permission to run Bash' }), 'waiting', 'fix-tests is waiting for permission to run Bash'],
      [event('session.turn_ended', { lastMessage: 'All 12 tests pass.' }), 'turn_ended', 'fix-tests finished its turn: All 12 tests pass.'],
      [event('session.exited', { status: 'exited', exitCode: 3, detail: null }), 'exited', 'fix-tests exited with code 3'],
      [event('session.exited', { status: 'crashed', exitCode: null, detail: 'lost' }), 'exited', 'fix-tests ended (crashed)'],
      [event('session.status', { from: 'waiting', to: 'working', detail: null }), undefined, undefined],
      [event('claude.Notification', { message: 'Claude needs your permission' }), undefined, undefined],
    ];
    for (const [given, kind, text] of cases) {
      const found = kindOf(given);
      assert.equal(found, kind, given.type);
      assert.equal(found && notificationText(found, session, given), text);
    }
  });
});
