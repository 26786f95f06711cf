import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiClient, daemonEndpoints, SESSION_COOKIE, sessionEndpoints, type AuditEntry, type AuthStatus, type WebSession } from '@codepiper/sdk';
import { runCli, tempHome, TestDaemon } from './harness.js';
import { bootstrapPassword, setUpAccount, startWebDaemon, totp, WebClient, type Account } from './web-client.js';

describe('first run, sign-in and sign-out over HTTP', () => {
  let daemon: TestDaemon;
  let web: WebClient;
  let account: Account;
  before(async () => {
    // These tests fail sign-ins on purpose (replays, used codes) from one address: more than the default 5 per window.
    const started = await startWebDaemon('auth:\n  attempts_per_address: 50\n');
    daemon = started.daemon;
    web = new WebClient(started.url);
  });
  after(() => daemon?.dispose());

  test('the bootstrap password allows nothing but the setup; TOTP enrollment gives recovery codes and a full session', async () => {
    assert.deepEqual((await web.request('GET', '/auth/session')).json(), { stage: 'none', expiresAt: null, firstRun: true });
    const bootstrap = bootstrapPassword(daemon.output);
    const login = await web.request('POST', '/auth/login', { body: { password: bootstrap } });
    assert.equal(login.status, 200, login.text);
    const cookie = login.headers.getSetCookie()[0]!;
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.doesNotMatch(cookie, /; Secure/, 'plain HTTP: no Secure flag');
    assert.equal(login.json<{ stage: string }>().stage, 'setup');

    const refused = await web.request('GET', '/sessions');
    assert.equal(refused.status, 403);
    assert.equal(refused.json<{ error: { code: string } }>().error.code, 'setup_required');
    assert.equal((await web.request('POST', '/auth/setup/totp')).status, 409, 'TOTP comes after the password');
    const short = await web.request('POST', '/auth/setup/password', { body: { password: 'short' } });
    assert.equal(short.status, 400);
    assert.match(short.text, /body\/password must NOT have fewer than 12 characters/);
    assert.equal((await web.request('POST', '/auth/setup/password', { body: { password: 'correct horse battery staple' } })).status, 200);

    const enrollment = await web.request('POST', '/auth/setup/totp');
    const { secret, uri, qrSvg } = enrollment.json<{ secret: string; uri: string; qrSvg: string }>();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(uri, new RegExp(`^otpauth://totp/CodePiper:.*secret=${secret}`));
    assert.match(qrSvg, /^<svg[^>]*>[\s\S]*<\/svg>$/);
    const wrong = await web.request('POST', '/auth/setup/totp/confirm', { body: { code: totp(secret, 5) } });
    assert.equal(wrong.status, 400, 'a code far from now does not confirm');
    const confirmed = await web.request('POST', '/auth/setup/totp/confirm', { body: { code: totp(secret) } });
    assert.equal(confirmed.status, 200, confirmed.text);
    const { recoveryCodes, stage } = confirmed.json<{ recoveryCodes: string[]; stage: string }>();
    assert.equal(stage, 'full');
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    assert.equal((await web.request('GET', '/sessions')).status, 200);
    account = { password: 'correct horse battery staple', bootstrapPassword: bootstrap, totpSecret: secret, recoveryCodes };

    const again = await web.request('POST', '/auth/login', { body: { password: bootstrap } });
    assert.equal(again.status, 401, 'the bootstrap password is spent');
  });

  test('logout ends the session; a TOTP code works once; a recovery code works once', async () => {
    const old = web.cookie!;
    assert.equal((await web.request('POST', '/auth/logout')).status, 200);
    assert.equal(web.cookie, undefined, 'the cookie is cleared');
    assert.equal((await web.request('GET', '/sessions', { cookie: old })).status, 401, 'the old token no longer works');

    const code = totp(account.totpSecret, 1);
    const signedIn = await web.request('POST', '/auth/login', { body: { password: account.password, code } });
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.equal(signedIn.json<{ stage: string }>().stage, 'full');
    assert.equal((await web.request('GET', '/sessions')).status, 200);
    await web.request('POST', '/auth/logout');

    const replay = await web.request('POST', '/auth/login', { body: { password: account.password, code } });
    assert.equal(replay.status, 401, 'the same TOTP code is refused the second time');
    assert.deepEqual(replay.json(), { error: { code: 'login_failed', message: 'wrong password or code' } });
    const wrongPassword = await web.request('POST', '/auth/login', { body: { password: 'not the password', code: totp(account.totpSecret) } });
    assert.deepEqual(wrongPassword.json(), replay.json(), 'one message for every failure');

    const recovery = account.recoveryCodes[0]!;
    assert.equal((await web.request('POST', '/auth/login', { body: { password: account.password, code: recovery.toUpperCase() } })).status, 200);
    await web.request('POST', '/auth/logout');
    assert.equal((await web.request('POST', '/auth/login', { body: { password: account.password, code: recovery } })).status, 401, 'a recovery code is single use');
  });

  test('the local CLI: status, sessions, revoke, reset-password and reset-mfa; none of them over TCP', async () => {
    assert.equal((await web.request('POST', '/auth/login', { body: { password: account.password, code: account.recoveryCodes[1]! } })).status, 200);
    const status = JSON.parse((await daemon.cli(['auth', 'status', '--json'])).stdout) as AuthStatus;
    assert.deepEqual({ ...status, failedAttempts: 0 }, { passwordSet: true, mfaEnrolled: true, recoveryCodesLeft: 8, failedAttempts: 0, lockedUntil: null, sessions: 1 });
    const sessions = JSON.parse((await daemon.cli(['auth', 'sessions', '--json'])).stdout) as { sessions: WebSession[] };
    assert.equal(sessions.sessions.length, 1);
    assert.equal(sessions.sessions[0]!.stage, 'full');
    assert.ok(!JSON.stringify(sessions).includes(web.cookie!), 'the token is never listed');

    for (const url of ['/auth/status', '/auth/reset-mfa', '/daemon/stop']) {
      const method = url === '/auth/status' ? 'GET' : 'POST';
      const response = await web.request(method, url);
      assert.equal(response.status, 403, `${method} ${url} over TCP`);
      assert.equal(response.json<{ error: { code: string } }>().error.code, 'local_only');
    }

    const revoked = await daemon.cli(['auth', 'revoke', sessions.sessions[0]!.id.slice(0, 6)]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /ended 1 web session/);
    assert.equal((await web.request('GET', '/sessions')).status, 401);

    const short = await daemon.cli(['auth', 'reset-password'], { input: 'short\n' });
    assert.equal(short.code, 2);
    assert.match(short.stderr, /at least 12 characters/);
    const reset = await daemon.cli(['auth', 'reset-password'], { input: 'a brand new passphrase\n' });
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal((await web.request('POST', '/auth/login', { body: { password: account.password, code: account.recoveryCodes[2]! } })).status, 401, 'the old password is gone');
    assert.equal((await web.request('POST', '/auth/login', { body: { password: 'a brand new passphrase', code: account.recoveryCodes[2]! } })).status, 200);

    assert.equal((await daemon.cli(['auth', 'reset-mfa'])).code, 0);
    assert.equal((await web.request('GET', '/sessions')).status, 401, 'reset-mfa ends every session');
    const passwordOnly = await web.request('POST', '/auth/login', { body: { password: 'a brand new passphrase' } });
    assert.equal(passwordOnly.json<{ stage: string }>().stage, 'setup', 'without TOTP, the password gives a setup session that enrolls it');
    assert.equal((await web.request('GET', '/sessions')).status, 403);
    assert.equal((await web.request('POST', '/auth/setup/totp')).status, 200);

    const audit = JSON.parse((await daemon.cli(['audit', '--tool', 'auth.*', '--json'])).stdout) as { entries: AuditEntry[] };
    const seen = new Set(audit.entries.map((e) => `${e.tool} ${e.decision}`));
    for (const expected of ['auth.bootstrap allow', 'auth.login allow', 'auth.login deny', 'auth.logout allow', 'auth.password allow', 'auth.mfa allow', 'auth.revoke allow']) {
      assert.ok(seen.has(expected), `the audit trail has ${expected}: ${[...seen].join(', ')}`);
    }
    const text = await daemon.cli(['audit', '--tool', 'auth.login', '--decision', 'deny']);
    assert.match(text.stdout, /auth\.login\s+deny/);
  });
});

describe('web session expiry', () => {
  let daemon: TestDaemon;
  after(() => daemon?.dispose());

  test('a session unused for longer than session_idle_s is refused and removed', async () => {
    const started = await startWebDaemon('auth:\n  session_idle_s: 1\n');
    daemon = started.daemon;
    const web = new WebClient(started.url);
    await setUpAccount(web, daemon.output);
    assert.equal((await web.request('GET', '/sessions')).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const expired = await web.request('GET', '/sessions');
    assert.equal(expired.status, 401);
    assert.match(expired.text, /expired/);
    assert.equal(JSON.parse((await daemon.cli(['auth', 'sessions', '--json'])).stdout).sessions.length, 0);
  });
});

describe('daemon --detach --web', () => {
  const home = tempHome();
  const env = { ...process.env, CODEPIPER_HOME: home };
  after(async () => {
    await runCli(['daemon', 'stop'], { env });
    new TestDaemon(home).tmux(['kill-server']);
  });

  test('prints the bootstrap password once, and no file keeps it', async () => {
    const started = await runCli(['daemon', '--detach', '--web', '--port', '0'], { env });
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /daemon started \(pid \d+\), socket .*, web http:\/\/127\.0\.0\.1:\d+/);
    const password = bootstrapPassword(started.stdout);
    for (const file of ['logs/daemon.out', 'logs/daemon.log']) {
      assert.ok(!readFileSync(path.join(home, file), 'utf8').includes(password), `${file} does not hold the bootstrap password`);
    }
    const usage = await runCli(['daemon', '--port', '80'], { env });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--port only apply with --web/);
  });
});

describe('daemon --web --tls-cert --tls-key', () => {
  let daemon: TestDaemon | undefined;
  const dir = tempHome();
  after(async () => {
    await daemon?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves HTTPS, and the session cookie is Secure', async () => {
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    daemon = new TestDaemon(undefined, {}, ['--web', '--port', '0', '--tls-cert', cert, '--tls-key', key]);
    await daemon.start();
    const { web } = await daemon.client.call(daemonEndpoints.status);
    assert.match(web ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
    const body = JSON.stringify({ password: bootstrapPassword(daemon.output) });
    const response = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
      const request = https.request(`${web}/auth/login`, { method: 'POST', ca: readFileSync(cert), headers: { origin: web!, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie']?.[0] ?? '' });
      });
      request.on('error', reject);
      request.end(body);
    });
    assert.equal(response.status, 200);
    assert.match(response.cookie, /; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    const plain = await fetch(web!.replace('https', 'http') + '/health').then(() => 'answered', () => 'refused');
    assert.equal(plain, 'refused', 'no plain HTTP on the TLS port');
  });
});

describe('bootstrap sessions end when the password is chosen', () => {
  test('a second session opened with the bootstrap password cannot enroll TOTP once another chose the password', async () => {
    const { daemon, url } = await startWebDaemon('');
    try {
      const owner = new WebClient(url);
      const other = new WebClient(url);
      const bootstrap = bootstrapPassword(daemon.output);
      for (const client of [owner, other]) assert.equal((await client.request('POST', '/auth/login', { body: { password: bootstrap } })).status, 200);
      assert.equal((await owner.request('POST', '/auth/setup/password', { body: { password: 'the owner chose this one' } })).status, 200);
      assert.equal((await other.request('POST', '/auth/setup/totp')).status, 401, 'the other bootstrap session is gone');
      assert.equal((await owner.request('POST', '/auth/setup/totp')).status, 200, 'the owner goes on to enroll');
    } finally {
      await daemon.dispose();
    }
  });
});

describe('ending a web session closes what it had open', { timeout: 60_000 }, () => {
  test('a terminal WebSocket opened by a web session closes when that session is revoked', async () => {
    const { daemon, url } = await startWebDaemon('');
    try {
      const web = new WebClient(url);
      await setUpAccount(web, daemon.output);
      const shell = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: daemon.home } });
      const browser = new ApiClient({ baseUrl: url, headers: { origin: url, cookie: `${SESSION_COOKIE}=${web.cookie ?? ''}` } });
      const socket = await browser.openSocket(sessionEndpoints.terminal, { params: { id: shell.id } });
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      const revoked = await daemon.cli(['auth', 'revoke', 'all']);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal(await closed, 4401, 'closed as signed out');
    } finally {
      await daemon.dispose();
    }
  });
});
