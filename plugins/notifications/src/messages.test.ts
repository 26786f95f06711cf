import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CodePiperEvent } from '@codepiper/events-contract';
import { cut, MAX_BODY, noticeFor, type Notice } from './messages.js';
import { WaitNotices } from './waits.js';

const ID = '3f2a9c1e-0000-4000-8000-000000000001';
const event = (type: string, payload: unknown, sessionId: string | null = ID): CodePiperEvent => ({ id: 1, sessionId, type, ts: new Date().toISOString(), source: 'sessions', payload });
const shown = (e: CodePiperEvent) => noticeFor(e)?.payload('fix-tests');

describe('notices', () => {
  test('a permission wait names the session and what it waits for', () => {
    const e = event('session.status', { from: 'working', to: 'waiting', detail: 'permission: Bash rm -rf build' });
    assert.equal(noticeFor(e)?.kind, 'permission');
    assert.deepEqual(shown(e), { title: 'fix-tests waits for permission', body: 'permission: Bash rm -rf build', tag: `session-${ID}`, url: `/#/sessions/${ID}` });
  });

  test('a question (pending approval) carries its id, the tool call, where to answer it and the Approve and Deny actions', () => {
    const approval = { id: 'a1b2c3d4-0000-4000-8000-000000000009', sessionId: ID, tool: 'Bash', input: { command: 'rm -rf  build' }, status: 'pending' };
    const notice = noticeFor(event('approval.pending', approval));
    assert.equal(notice?.kind, 'permission');
    assert.equal(notice?.key, approval.id, 'each question its own topic: a second one does not replace the first');
    assert.deepEqual(notice?.payload('fix-tests'), {
      title: 'fix-tests asks to use Bash',
      body: 'Bash rm -rf build',
      tag: `approval-${approval.id}`,
      url: `/#/sessions/${ID}`,
      approval: { id: approval.id, sessionId: ID, tool: 'Bash', description: 'Bash rm -rf build', approveUrl: `/approvals/${approval.id}/approve`, denyUrl: `/approvals/${approval.id}/deny` },
      actions: [
        { action: 'approve', title: 'Approve' },
        { action: 'deny', title: 'Deny' },
      ],
    });
    assert.equal(shown(event('approval.pending', { ...approval, tool: 'Write', input: { file_path: '/etc/hosts', content: 'x' } }))?.body, 'Write /etc/hosts');
  });

  test('a permission wait is held a moment and dropped when its question or any later notice of the session comes', async () => {
    const sent: string[] = [];
    const waits = new WaitNotices((notice) => sent.push(notice.payload('s').title), 50);
    const notice = (type: string, payload: unknown, sessionId = ID) => noticeFor(event(type, payload, sessionId)) as Notice;
    const waiting = (sessionId = ID) => notice('session.status', { from: 'working', to: 'waiting', detail: 'permission: Bash ls' }, sessionId);
    const other = '3f2a9c1e-0000-4000-8000-000000000002';
    waits.notice(waiting(), true);
    waits.notice(notice('approval.pending', { id: 'q1', tool: 'Bash', input: { command: 'ls' } }), true);
    waits.notice(waiting(other), true);
    waits.notice(waiting(), true);
    waits.notice(notice('session.exited', { status: 'exited', exitCode: 0 }), true);
    waits.notice(waiting(), false);
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.deepEqual(sent, ['s asks to use Bash', 's exited', 's waits for permission'], 'the other session’s wait, alone, is sent after the grace');
    waits.close();
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

  test('a worktree that changed is ready to review, in the place of the turn’s notice (same tag)', () => {
    const review = noticeFor(event('git.changed', { files: 3, added: 10, removed: 2 }));
    assert.equal(review?.kind, 'review');
    assert.deepEqual(review?.payload('fix-tests'), { title: 'fix-tests is ready to review', body: '3 files changed, +10 −2', tag: `session-${ID}`, url: `/#/sessions/${ID}` });
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
