import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CodePiperEvent } from '@codepiper/sdk';
import { cut, MAX_BODY, noticeFor } from './messages.js';

const ID = '3f2a9c1e-0000-4000-8000-000000000001';
const event = (type: string, payload: unknown, sessionId: string | null = ID): CodePiperEvent => ({ id: 1, sessionId, type, ts: new Date().toISOString(), source: 'sessions', payload });
const shown = (e: CodePiperEvent) => noticeFor(e)?.payload('fix-tests');

describe('notices', () => {
  test('a permission wait names the session and what it waits for', () => {
    const e = event('session.status', { from: 'working', to: 'waiting', detail: 'permission: Bash rm -rf build' });
    assert.equal(noticeFor(e)?.kind, 'permission');
    assert.deepEqual(shown(e), { title: 'fix-tests waits for permission', body: 'permission: Bash rm -rf build', tag: `session-${ID}`, url: `/#/sessions/${ID}` });
  });

  test('a finished turn carries the last message, or the error it stopped on', () => {
    assert.deepEqual(shown(event('session.turn_ended', { lastMessage: 'All 12 tests pass.' })), { title: 'fix-tests finished its turn', body: 'All 12 tests pass.', tag: `session-${ID}`, url: `/#/sessions/${ID}` });
    assert.equal(shown(event('session.turn_ended', { lastMessage: 'half', error: 'overloaded_error' }))?.body, 'error: overloaded_error');
    assert.equal(shown(event('session.turn_ended', { lastMessage: null }))?.body, 'ready for the next prompt');
    assert.equal(noticeFor(event('session.turn_ended', { lastMessage: null }))?.kind, 'turn');
  });

  test('an exit says its code, how it ended, or both', () => {
    const body = (payload: object) => shown(event('session.exited', payload))?.body;
    assert.equal(shown(event('session.exited', { status: 'exited', exitCode: 0, detail: null }))?.title, 'fix-tests exited');
    assert.equal(body({ status: 'exited', exitCode: 3, detail: null }), 'exit code 3');
    assert.equal(body({ status: 'exited', exitCode: null, detail: 'killed' }), 'killed');
    assert.equal(body({ status: 'exited', exitCode: null, detail: 'killed by signal SIGTERM' }), 'killed by signal SIGTERM');
    assert.equal(body({ status: 'crashed', exitCode: null, detail: 'its terminal was gone when the daemon started' }), 'crashed: its terminal was gone when the daemon started');
  });

  test('other events, other statuses and events of no session are not notified', () => {
    assert.equal(noticeFor(event('session.status', { from: 'working', to: 'idle', detail: null })), undefined);
    assert.equal(noticeFor(event('session.status', { from: 'running', to: 'exited', detail: null })), undefined, 'the exit is told once, by session.exited');
    assert.equal(noticeFor(event('claude.Stop', {})), undefined);
    assert.equal(noticeFor(event('session.exited', { status: 'exited', exitCode: 0 }, null)), undefined);
  });

  test('long bodies are cut to one line of at most MAX_BODY characters', () => {
    const long = `${'word '.repeat(100)}\n\nend`;
    const body = shown(event('session.turn_ended', { lastMessage: long }))!.body;
    assert.ok(body.length <= MAX_BODY, `${body.length} characters`);
    assert.ok(body.endsWith('…'));
    assert.doesNotMatch(body, /\n/);
    assert.equal(cut('short\nanswer'), 'short answer');
  });
});
