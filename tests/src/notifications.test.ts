import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { approvalEndpoints } from '@codepiper/policies-contract';
import { eventEndpoints } from '@codepiper/events-contract';
import { notificationEndpoints, type PushPayload } from '@codepiper/notifications-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import type { ApiErrorBody } from '@codepiper/sdk';
import { writeStandInClaude } from './agents/claude.js';
import { waitFor, type TestDaemon } from './harness.js';
import { FakePushService, readVapid, Subscriber } from './push-service.js';
import { setUpAccount, startWebDaemon, WebClient } from './web-client.js';

const SUBJECT = 'mailto:ops@example.com';

describe('Web Push notifications to a push service over HTTPS', { timeout: 240_000 }, () => {
  let push: FakePushService;
  let daemon: TestDaemon;
  let web: WebClient;
  let url: string;
  let scratch: string;
  let phone: Subscriber;

  before(async () => {
    push = await FakePushService.start();
    scratch = mkdtempSync('/tmp/cpt-push-work-');
    const claude = writeStandInClaude(scratch);
    ({ daemon, url } = await startWebDaemon(`notifications:\n  subject: ${SUBJECT}\n`, { NODE_EXTRA_CA_CERTS: push.caFile, CODEPIPER_CLAUDE_BIN: claude }));
    web = new WebClient(url);
    await setUpAccount(web, daemon.output);
  });
  after(async () => {
    await daemon?.dispose();
    await push?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const vapidKey = async () => (await daemon.client.call(notificationEndpoints.vapidKey)).publicKey;
  const subscriptionCount = async () => (await daemon.client.call(notificationEndpoints.status)).subscriptions;

  /** What `subscriber` received, decrypted, oldest first. */
  const pushesTo = (subscriber: Subscriber) => push.to(subscriber.path).map((request) => ({ request, message: subscriber.decrypt(request.body) as PushPayload }));

  /** The push to `subscriber` about `session` whose title matches, once it has arrived. */
  const pushFor = (subscriber: Subscriber, session: SessionRecord, title: RegExp) =>
    waitFor(`a push "${title.source}" about ${session.name} to ${subscriber.path}`, () => pushesTo(subscriber).find(({ message }) => message.tag === `session-${session.id}` && title.test(message.title)), 30_000);

  /** Ends a session and waits for its exit notice, so that no notice of it arrives during a later test. */
  async function kill(session: SessionRecord): Promise<void> {
    await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });
    await pushFor(phone, session, /exited$/);
  }

  /** A shell session that exits with the code typed into it. */
  async function exitingShell(name: string): Promise<{ session: SessionRecord; exit(code: number): Promise<void> }> {
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: scratch, name, args: ['sh', '-c', 'read code; exit "$code"'] } });
    return {
      session,
      exit: async (code) => {
        await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: String(code) } });
        await waitFor(`${name} to exit`, async () => (await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status === 'exited');
      },
    };
  }

  /** A Claude Code session (a stand-in claude that waits) whose hooks the test fires through its real hook forwarder. */
  async function claudeSession(name: string): Promise<{ session: SessionRecord; hook(payload: object): void; hookLater(payload: object): void }> {
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'claude-code', cwd: scratch, name, env: { CLAUDE_CONFIG_DIR: path.join(scratch, name) } } });
    const forwarder = path.join(path.dirname(String(session.metadata.settingsPath)), 'hook.sh');
    return {
      session,
      hook: (payload) => {
        const result = spawnSync(forwarder, [], { input: JSON.stringify({ session_id: session.id, ...payload }), encoding: 'utf8', timeout: 20_000 });
        assert.equal(result.status, 0, result.stderr);
      },
      // A permission request waits for a person (a pending approval): fired without waiting for its answer.
      hookLater: (payload) => spawn(forwarder, ['PermissionRequest'], { stdio: ['pipe', 'ignore', 'ignore'] }).stdin?.end(JSON.stringify({ session_id: session.id, ...payload })),
    };
  }

  test('a browser subscribes over the web listener with the daemon’s VAPID key; the same endpoint again keeps its id', async () => {
    const stranger = new WebClient(url);
    assert.equal((await stranger.request('GET', '/notifications/vapid-key')).status, 401, 'the key and subscriptions need a signed-in user');
    const key = await web.request('GET', '/notifications/vapid-key');
    assert.equal(key.status, 200, key.text);
    const point = Buffer.from(key.json<{ publicKey: string }>().publicKey, 'base64url');
    assert.equal(point.length, 65, 'an uncompressed P-256 point, as applicationServerKey wants');
    assert.equal(point[0], 4);

    const first = new Subscriber(push, '/phone');
    const created = await web.request('POST', '/notifications/subscriptions', { body: first.subscription });
    assert.equal(created.status, 200, created.text);
    // The browser renewed its subscription: same endpoint, new keys; pushes must use the new ones.
    phone = new Subscriber(push, '/phone');
    const renewed = await web.request('POST', '/notifications/subscriptions', { body: phone.subscription });
    assert.equal(renewed.json<{ id: string }>().id, created.json<{ id: string }>().id);
    assert.equal(await subscriptionCount(), 1);
  });

  test('a subscription no browser would send is refused with a 400 that says why', async () => {
    const good = new Subscriber(push, '/bad').subscription;
    const cases: [object, RegExp][] = [
      [{ ...good, endpoint: 'http://127.0.0.1:9/push' }, /https/],
      [{ ...good, endpoint: 'not a url' }, /endpoint/],
      [{ ...good, keys: { ...good.keys, p256dh: 'AAAA' } }, /p256dh/],
      [{ ...good, keys: { ...good.keys, auth: 'c2hvcnQ' } }, /auth/],
      [{ endpoint: good.endpoint }, /keys/],
      [{ ...good, extra: 1 }, /extra|additional/],
    ];
    for (const [body, reason] of cases) {
      const response = await web.request('POST', '/notifications/subscriptions', { body });
      assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.text}`);
      assert.equal(response.json<ApiErrorBody>().error.code, 'invalid_request');
      assert.match(response.json<ApiErrorBody>().error.message, reason);
    }
    assert.equal(await subscriptionCount(), 1, 'nothing was stored');
  });

  test('a session that exits sends an aes128gcm message, signed for the push service’s origin, that decrypts to the notice', async () => {
    const shell = await exitingShell('build');
    await shell.exit(3);
    const { request, message } = await pushFor(phone, shell.session, /exited/);
    assert.equal(request.headers['content-encoding'], 'aes128gcm');
    assert.equal(request.headers.urgency, 'normal');
    assert.ok(Number(request.headers.ttl) > 0, 'kept for a phone that is offline');
    const vapid = readVapid(request.headers.authorization);
    assert.equal(vapid.claims.aud, push.origin);
    assert.equal(vapid.claims.sub, SUBJECT);
    assert.ok((vapid.claims.exp ?? 0) > Date.now() / 1000, 'the token has not expired');
    assert.equal(vapid.publicKey, await vapidKey());
    assert.deepEqual(message, { title: 'build exited', body: 'exit code 3', tag: `session-${shell.session.id}`, url: `/#/sessions/${shell.session.id}` });
  });

  test('a session whose worktree it changed says it is ready to review, with the counts, through the push service', async () => {
    const repo = path.join(scratch, 'review-repo');
    mkdirSync(repo);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { cwd: repo });
    git('init', '--quiet', '--initial-branch=main');
    writeFileSync(path.join(repo, 'README'), 'hello\n');
    git('add', 'README');
    git('commit', '--quiet', '-m', 'first');
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: repo, name: 'reviewable', worktree: true, args: ['sh', '-c', 'printf "one\\ntwo\\n" > notes.txt'] } });
    const { message } = await pushFor(phone, session, /is ready to review$/);
    assert.deepEqual(message, { title: 'reviewable is ready to review', body: '1 file changed, +2 −0', tag: `session-${session.id}`, url: `/#/sessions/${session.id}` });
  });

  test('a Claude permission request that is a question sends one notice, with the approval, Approve and Deny and where to answer', async () => {
    const claude = await claudeSession('refactor');
    claude.hookLater({ hook_event_name: 'PermissionRequest', tool_name: 'Bash', tool_input: { command: 'rm -rf build' } });
    const { request, message } = await waitFor('the question’s push', () => pushesTo(phone).find(({ message }) => message.approval?.sessionId === claude.session.id), 30_000);
    // No policy covers it: the default asks, and the question is a pending approval.
    const [approval] = (await daemon.client.call(approvalEndpoints.list, { query: {} })).approvals.filter((a) => a.sessionId === claude.session.id);
    assert.ok(approval, 'the pending approval');
    assert.equal(approval.policyName, 'default');
    assert.equal(request.headers.urgency, 'high');
    assert.equal(request.headers.topic, approval.id.replace(/-/g, ''), 'a second question does not replace this one at the push service');
    assert.deepEqual(message, {
      title: 'refactor asks to use Bash',
      body: 'Bash rm -rf build',
      tag: `approval-${approval.id}`,
      url: `/#/sessions/${claude.session.id}`,
      approval: { id: approval.id, sessionId: claude.session.id, tool: 'Bash', description: 'Bash rm -rf build', approveUrl: `/approvals/${approval.id}/approve`, denyUrl: `/approvals/${approval.id}/deny` },
      actions: [
        { action: 'approve', title: 'Approve' },
        { action: 'deny', title: 'Deny' },
      ],
    });
    // What the service worker does on Deny: a POST of {} to the URL, with the session cookie and the page's origin.
    const denied = await web.request('POST', message.approval?.denyUrl ?? '', { body: {} });
    assert.equal(denied.status, 200, denied.text);
    assert.equal(denied.json<{ status: string }>().status, 'denied');
    const again = await web.request('POST', message.approval?.approveUrl ?? '', { body: {} });
    assert.equal(again.status, 409, 'already answered: the service worker opens the question instead');
    // The session also went waiting: that notice, held a moment, was dropped for the question.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await kill(claude.session);
    const about = pushesTo(phone).filter(({ message }) => message.tag === `session-${claude.session.id}` || message.approval?.sessionId === claude.session.id);
    assert.deepEqual(about.map(({ message }) => message.title), ['refactor asks to use Bash', 'refactor exited'], 'one notice for the question');
  });

  test('a Claude session waiting for its own prompt (no question) notifies, saying what it waits for', async () => {
    const claude = await claudeSession('prompted');
    claude.hook({ hook_event_name: 'Notification', notification_type: 'permission_prompt', message: 'Claude needs your permission to use Bash' });
    const { request, message } = await pushFor(phone, claude.session, /permission/);
    const shown = await daemon.client.call(sessionEndpoints.show, { params: { id: claude.session.id } });
    assert.equal(shown.status, 'waiting');
    assert.equal(request.headers.urgency, 'high');
    assert.deepEqual(message, { title: 'prompted waits for permission', body: 'Claude needs your permission to use Bash', tag: `session-${claude.session.id}`, url: `/#/sessions/${claude.session.id}` });
    await kill(claude.session);
  });

  test('a Claude session finishing its turn notifies with its last message', async () => {
    const claude = await claudeSession('tests');
    claude.hook({ hook_event_name: 'Stop', last_assistant_message: 'All 12 tests pass.' });
    const { message } = await pushFor(phone, claude.session, /turn/);
    assert.deepEqual(message, { title: 'tests finished its turn', body: 'All 12 tests pass.', tag: `session-${claude.session.id}`, url: `/#/sessions/${claude.session.id}` });
    await kill(claude.session);
  });

  test('a muted session sends nothing, to any device, until it is unmuted', async () => {
    const quiet = await exitingShell('quiet');
    const loud = await exitingShell('loud');
    const muted = await web.request('PUT', `/notifications/mutes/${quiet.session.id.slice(0, 8)}`, { body: { muted: true } });
    assert.equal(muted.status, 200, muted.text);
    assert.deepEqual(muted.json(), { session: quiet.session.id, muted: true }, 'a prefix names the session; the answer has its full id');
    assert.deepEqual(await daemon.client.call(notificationEndpoints.mutes), { sessions: [quiet.session.id] });

    await quiet.exit(0);
    await loud.exit(0);
    // Notices are sent in the order of their events: once loud's has arrived, quiet's would have too.
    await pushFor(phone, loud.session, /exited/);
    assert.deepEqual(pushesTo(phone).filter(({ message }) => message.tag === `session-${quiet.session.id}`), [], 'nothing about the muted session');

    const unmuted = await web.request('PUT', `/notifications/mutes/${quiet.session.id}`, { body: { muted: false } });
    assert.deepEqual(unmuted.json(), { session: quiet.session.id, muted: false });
    assert.deepEqual(await daemon.client.call(notificationEndpoints.mutes), { sessions: [] });
    assert.equal((await web.request('PUT', '/notifications/mutes/ffffffff', { body: { muted: true } })).status, 404);
    assert.equal((await web.request('PUT', `/notifications/mutes/${loud.session.id}`, { body: { muted: 'yes' } })).status, 400);
  });

  test('the CLI mutes and unmutes a session by name and shows how many devices get notices', async () => {
    const { session } = await exitingShell('cli-muted');
    const muted = await daemon.cli(['notifications', 'mute', 'cli-muted']);
    assert.equal(muted.code, 0, muted.stderr);
    assert.equal(muted.stdout, `muted notifications of session ${session.id.slice(0, 8)}\n`);
    const status = await daemon.cli(['notifications', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^subscriptions: +1 device$/m);
    assert.match(status.stdout, /^sent on: +permission, turn, exit, review$/m);
    assert.match(status.stdout, new RegExp(`^muted: +${session.id.slice(0, 8)} \\(cli-muted\\)$`, 'm'));
    const json = await daemon.cli(['notifications', 'status', '--json']);
    assert.deepEqual(JSON.parse(json.stdout), { subscriptions: 1, on: ['permission', 'turn', 'exit', 'review'], muted: [session.id] });
    assert.equal((await daemon.cli(['notifications', 'unmute', session.id])).code, 0);
    assert.deepEqual(await daemon.client.call(notificationEndpoints.mutes), { sessions: [] });
    const unknown = await daemon.cli(['notifications', 'mute', 'no-such-session']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no-such-session.*not found/);
    await kill(session);
  });

  test('a subscription the push service says is gone (410) is removed; one refused (403, 500) is kept, tried again, and the log says why', async () => {
    const gone = new Subscriber(push, '/gone');
    const apple = new Subscriber(push, '/apple');
    const flaky = new Subscriber(push, '/flaky');
    push.answers.set(gone.path, { status: 410 });
    push.answers.set(apple.path, { status: 403, body: '{"reason":"BadJwtToken"}' });
    push.answers.set(flaky.path, { status: 500 });
    for (const subscriber of [gone, apple, flaky]) await daemon.client.call(notificationEndpoints.subscribe, { body: subscriber.subscription });
    assert.equal(await subscriptionCount(), 4);

    const first = await exitingShell('first');
    const second = await exitingShell('second');
    await first.exit(0);
    await second.exit(0);
    // A notice is done with every subscription before the next is sent: once the second has arrived, the first's answers are handled.
    await pushFor(phone, second.session, /exited/);
    const tags = (subscriber: Subscriber) => pushesTo(subscriber).map(({ message }) => message.tag);
    assert.deepEqual(tags(gone), [`session-${first.session.id}`], 'the gone subscription was tried once');
    for (const kept of [apple, flaky]) assert.deepEqual(tags(kept), [`session-${first.session.id}`, `session-${second.session.id}`], `${kept.path} is still tried`);
    assert.equal(await subscriptionCount(), 3);

    const warnings = readFileSync(path.join(daemon.home, 'logs', 'daemon.log'), 'utf8').split('\n').filter((line) => line.includes('"plugin":"notifications"') && line.includes('"level":40'));
    assert.ok(warnings.some((line) => line.includes('"status":403') && line.includes(`set notifications.subject`) && line.includes(SUBJECT)), 'a refused VAPID token says what to change');
    assert.ok(warnings.some((line) => line.includes('"status":500')));
    assert.ok(!warnings.some((line) => line.includes('/flaky') || line.includes('/apple')), 'endpoint URLs (capabilities) are not logged, only their origin');
    for (const subscriber of [apple, flaky]) assert.deepEqual(await daemon.client.call(notificationEndpoints.unsubscribe, { body: { endpoint: subscriber.subscription.endpoint } }), { removed: 1 });
    assert.equal(await subscriptionCount(), 1);
  });

  test('the VAPID private key is kept encrypted in the secret store, never logged, and the same after a restart', async () => {
    const row = spawnSync('sqlite3', ['-separator', ' ', path.join(daemon.home, 'codepiper.db'), "SELECT hex(nonce), hex(ciphertext), hex(tag) FROM secrets WHERE name = 'notifications.vapid'"], { encoding: 'utf8' });
    assert.equal(row.status, 0, row.stderr);
    const [nonce, ciphertext, tag] = row.stdout.trim().split(' ').map((hex) => Buffer.from(hex, 'hex')) as [Buffer, Buffer, Buffer];
    const decipher = createDecipheriv('aes-256-gcm', readFileSync(path.join(daemon.home, 'plugins', 'secrets', 'secret.key')), nonce);
    decipher.setAAD(Buffer.from('notifications.vapid'));
    decipher.setAuthTag(tag);
    const keys = JSON.parse(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString()) as { publicKey: string; privateKey: string };
    assert.equal(keys.publicKey, await vapidKey());

    const logs = readFileSync(path.join(daemon.home, 'logs', 'daemon.log'), 'utf8');
    assert.match(logs, /made a VAPID key pair/, 'the log is the one the daemon writes');
    assert.ok(!logs.includes(keys.privateKey), 'not in the log file');
    assert.ok(!daemon.output.includes(keys.privateKey), 'not on the daemon’s terminal');
    const events = await daemon.client.call(eventEndpoints.list, { query: { limit: 10000 } });
    assert.ok(!JSON.stringify(events).includes(keys.privateKey), 'not in any event');
    for (const file of ['codepiper.db', 'codepiper.db-wal'].map((name) => path.join(daemon.home, name)).filter((file) => existsSync(file))) {
      assert.ok(!readFileSync(file).toString('latin1').includes(keys.privateKey), `not in ${path.basename(file)} in clear`);
    }

    await daemon.stop();
    await daemon.start();
    assert.equal(await vapidKey(), keys.publicKey, 'subscriptions stay valid across restarts');
    assert.equal(await subscriptionCount(), 1);
  });
});
