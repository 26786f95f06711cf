import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { ApiClient, daemonEndpoints, databasePath } from '@codepiper/sdk';
import { auditEndpoints, type AuditEntry } from '@codepiper/audit-contract';
import { authEndpoints, SECURE_SESSION_COOKIE, SESSION_COOKIE, type AuthStatus, type WebSession } from '@codepiper/auth-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { WebSocket } from 'ws';
import { selfSignedCertificate } from './certificates.js';
import { removeHome, runCli, tempHome, TestDaemon, waitFor } from './harness.js';
import { bootstrapPassword, errorCode, setUpAccount, startWebDaemon, totp, WebClient, type Account } from './web-client.js';

interface Sent {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One request on a connection of its own, with its headers as given (Host
 * too) and, to a loopback listener, from any address of 127.0.0.0/8.
 */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: unknown; localAddress?: string; ca?: Buffer } = {}): Promise<Sent> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const target = new URL(url);
  const settings: https.RequestOptions = {
    method: options.method ?? 'GET',
    agent: false,
    localAddress: options.localAddress,
    ca: options.ca,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...options.headers },
  };
  return new Promise((resolve, reject) => {
    const answered = (response: http.IncomingMessage): void => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
    };
    const request = target.protocol === 'https:' ? https.request(target, settings, answered) : http.request(target, settings, answered);
    request.on('error', reject);
    request.end(body);
  });
}

/** The attributes of a Set-Cookie header, lower-cased names, after its `name=value`. */
const cookieAttributes = (setCookie: string): Record<string, string | true> =>
  Object.fromEntries(
    setCookie
      .split(';')
      .slice(1)
      .map((part) => {
        const [name, ...value] = part.trim().split('=');
        return [name!.toLowerCase(), value.length > 0 ? value.join('=') : true];
      }),
  );

describe('first run, sign-in and sign-out over HTTP', () => {
  let daemon: TestDaemon;
  let web: WebClient;
  let account: Account;
  before(async () => {
    // These tests fail sign-ins on purpose (replays, used codes) from one address: more than the default 5 per window.
    const started = await startWebDaemon('auth:\n  attempts_per_address: 10\n');
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
    assert.match(cookie, new RegExp(`^${SESSION_COOKIE}=[\\w-]+;`), 'plain HTTP: the plain name');
    assert.deepEqual(cookieAttributes(cookie), { 'max-age': String(7 * 86400), path: '/', httponly: true, samesite: 'Strict' }, 'plain HTTP: no Secure flag, no Domain');
    assert.equal(login.json<{ stage: string }>().stage, 'setup');

    const refused = await web.request('GET', '/sessions');
    assert.equal(refused.status, 403);
    assert.equal(refused.json<{ error: { code: string } }>().error.code, 'setup_required');
    assert.equal((await web.request('POST', '/auth/setup/totp')).status, 409, 'TOTP comes after the password');
    const short = await web.request('POST', '/auth/setup/password', { body: { password: 'short' } });
    assert.equal(short.status, 400);
    assert.equal((JSON.parse(short.text) as { error: { message: string } }).error.message, '"password" must be at least 12 characters long');
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
    assert.deepEqual(status, { passwordSet: true, mfaEnrolled: true, recoveryCodesLeft: 8, failedAttempts: 0, lockedUntil: null, sessions: 1 }, 'a sign-in clears the failures');
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
    // Long enough for the setup's steps (each password is hashed with scrypt) on a machine as busy as stress-ng makes it.
    const started = await startWebDaemon('auth:\n  session_idle_s: 10\n');
    daemon = started.daemon;
    const web = new WebClient(started.url);
    await setUpAccount(web, daemon.output);
    assert.equal((await web.request('GET', '/sessions')).status, 200);
    await sleep(10_500);
    const expired = await web.request('GET', '/sessions');
    assert.equal(expired.status, 401);
    assert.match(expired.text, /expired/);
    assert.equal(JSON.parse((await daemon.cli(['auth', 'sessions', '--json'])).stdout).sessions.length, 0);
  });

  test('a session nobody uses again is removed without anyone asking: the next start sweeps it', async () => {
    const { daemon: sweeper, url } = await startWebDaemon('');
    try {
      await setUpAccount(new WebClient(url), sweeper.output);
      const stored = (): number => Number(spawnSync('sqlite3', [databasePath(sweeper.home), 'SELECT count(*) FROM auth_sessions'], { encoding: 'utf8' }).stdout);
      assert.equal(stored(), 1);
      await sweeper.stop();
      // Last seen long ago: past its idle expiry, as a phone's session is weeks after it was put away.
      const aged = spawnSync('sqlite3', [databasePath(sweeper.home), "UPDATE auth_sessions SET last_seen_at = '2020-01-01T00:00:00.000Z'"], { encoding: 'utf8' });
      assert.equal(aged.status, 0, aged.stderr);
      await sweeper.start();
      await waitFor('the expired session to be removed', () => stored() === 0 || undefined, 10_000);
    } finally {
      await sweeper.dispose();
    }
  });
});

describe('daemon --detach --web', () => {
  const home = tempHome();
  const env = { ...process.env, CODEPIPER_HOME: home };
  after(() => removeHome(home));

  test('prints the bootstrap password once, and no file keeps it', async () => {
    const started = await runCli(['daemon', '--detach', '--web', '--port', '0'], { env, timeoutMs: 60_000 });
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

  test('serves HTTPS; the session cookie is __Host- (Secure, Path=/, no Domain) and read only by that name', async () => {
    const { cert, key } = selfSignedCertificate(dir);
    daemon = new TestDaemon(undefined, {}, ['--web', '--port', '0', '--tls-cert', cert, '--tls-key', key]);
    await daemon.start();
    const { web } = await daemon.client.call(daemonEndpoints.status);
    assert.match(web ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(cert);
    const login = await send(`${web}/auth/login`, { method: 'POST', ca, headers: { origin: web! }, body: { password: bootstrapPassword(daemon.output) } });
    assert.equal(login.status, 200, login.text);
    const cookie = login.headers['set-cookie']?.[0] ?? '';
    const token = new RegExp(`^${SECURE_SESSION_COOKIE}=([\\w-]+);`).exec(cookie)?.[1];
    assert.ok(token, `the cookie is named ${SECURE_SESSION_COOKIE}: ${cookie}`);
    assert.deepEqual(cookieAttributes(cookie), { 'max-age': String(7 * 86400), path: '/', httponly: true, secure: true, samesite: 'Strict' }, 'Secure, Path=/, no Domain');

    // Needs the kernel's request site (RequestOrigin.site): without it no session is found.
    const stage = async (header: string): Promise<string> => JSON.parse((await send(`${web}/auth/session`, { ca, headers: { cookie: header } })).text).stage;
    assert.equal(await stage(`${SECURE_SESSION_COOKIE}=${token}`), 'setup');
    assert.equal(await stage(`${SESSION_COOKIE}=${token}`), 'none', 'over TLS the plain name is not read');
    const logout = await send(`${web}/auth/logout`, { method: 'POST', ca, headers: { origin: web!, cookie: `${SECURE_SESSION_COOKIE}=${token}` } });
    assert.equal(logout.status, 200, logout.text);
    assert.match(logout.headers['set-cookie']?.[0] ?? '', new RegExp(`^${SECURE_SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure;`), 'logout clears the __Host- cookie');

    const plain = await fetch(web!.replace('https', 'http') + '/health').then(() => 'answered', () => 'refused');
    assert.equal(plain, 'refused', 'no plain HTTP on the TLS port');
  });

  test('a renewed certificate is served from the next connection on, with no restart; a key that is not its own keeps the old one', async () => {
    const live = path.join(dir, 'live');
    const renewed = path.join(dir, 'renewed');
    for (const d of [live, renewed]) mkdirSync(d, { recursive: true });
    const { cert, key } = selfSignedCertificate(live);
    const next = selfSignedCertificate(renewed);
    const renewing = new TestDaemon(undefined, {}, ['--web', '--port', '0', '--tls-cert', cert, '--tls-key', key]);
    await renewing.start();
    try {
      const { port } = new URL((await renewing.client.call(daemonEndpoints.status)).web!);
      const served = (): Promise<string> =>
        new Promise((resolve, reject) => {
          const socket = tls.connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false }, () => {
            resolve(socket.getPeerCertificate().fingerprint256);
            socket.end();
          });
          socket.once('error', reject);
        });
      const fingerprint = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;
      const first = fingerprint(cert);
      assert.equal(await served(), first);

      // Half a renewal: the new certificate beside the old key.
      copyFileSync(next.cert, cert);
      await waitFor('the daemon to refuse the mismatched pair', () => renewing.logLines('cannot be used').length > 0 || undefined, 20_000);
      assert.equal(await served(), first, 'still the old certificate, and still serving');

      copyFileSync(next.key, key);
      await waitFor('the renewed certificate to be served', async () => (await served()) === fingerprint(next.cert) || undefined, 20_000);
    } finally {
      await renewing.dispose();
    }
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

describe('a web client that vanished is disconnected', { timeout: 60_000 }, () => {
  test('a terminal WebSocket that stops answering pings is cut and its watch ends; one that answers stays, and the Unix socket is not pinged', async () => {
    const { daemon, url } = await startWebDaemon('web:\n  heartbeat_s: 1\n');
    try {
      const web = new WebClient(url);
      await setUpAccount(web, daemon.output);
      const shell = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: daemon.home } });
      const open = async (autoPong: boolean): Promise<WebSocket> => {
        const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/sessions/${shell.id}/terminal`, { headers: { origin: url, cookie: `${SESSION_COOKIE}=${web.cookie ?? ''}` }, autoPong });
        await once(socket, 'open');
        return socket;
      };
      // Each watched session has one tmux client watching it, however many view it.
      const watchers = (): number => daemon.tmux(['list-clients', '-F', '#{client_session}']).stdout.split('\n').filter((session) => session === `cp-${shell.id}`).length;

      // A phone that lost its network: its connection stays open, and nothing answers.
      const vanished = await open(false);
      let cutWith: number | undefined;
      vanished.once('close', (code) => (cutWith = code));
      await waitFor('the session to be watched', () => watchers() === 1 || undefined);
      assert.equal(await waitFor('the silent client to be cut', () => cutWith, 15_000), 1006, 'cut, without a close frame');
      await waitFor('its watch to end', () => watchers() === 0 || undefined);

      const answering = await open(true);
      const local = await daemon.client.openSocket(sessionEndpoints.terminal, { params: { id: shell.id } });
      let pinged = 0;
      answering.on('ping', () => pinged++);
      let localPings = 0;
      local.on('ping', () => localPings++);
      await sleep(3_500);
      assert.equal(answering.readyState, WebSocket.OPEN, 'a client that answers stays connected');
      assert.ok(pinged >= 2, `pinged ${pinged} times in 3.5 s`);
      assert.equal(localPings, 0, 'the kernel closes a Unix socket whose client is gone: no pings there');
      answering.close();
      local.close();
    } finally {
      await daemon.dispose();
    }
  });
});

describe('sign-in abuse: attempts count on arrival, one address never locks the account', { timeout: 60_000 }, () => {
  let daemon: TestDaemon;
  let url: string;
  let account: Account;
  const status = (): Promise<AuthStatus> => daemon.client.call(authEndpoints.status);
  /** A sign-in attempt from `from`, any address of 127.0.0.0/8 (the daemon listens on 127.0.0.1). */
  const login = (from: string, body: { password: string; code: string }): Promise<Sent> => send(`${url}/auth/login`, { method: 'POST', localAddress: from, headers: { origin: url }, body });
  const guess = (from: string, i: number): Promise<Sent> => login(from, { password: `guess number ${i}`, code: '000000' });

  before(async () => {
    const started = await startWebDaemon('auth:\n  attempts_per_address: 2\n  attempts_window_s: 1\n  max_failures: 5\n');
    daemon = started.daemon;
    url = started.url;
    account = await setUpAccount(new WebClient(url), daemon.output);
  });
  after(() => daemon?.dispose());

  test('20 concurrent wrong guesses from one address: one is checked, the others get 429 at once, the account stays open', async () => {
    const answeredAt: number[] = [];
    const guesses = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const response = await guess('127.0.0.2', i);
        answeredAt[i] = performance.now();
        return response;
      }),
    );
    assert.deepEqual(guesses.map((g) => g.status).sort(), [401, ...Array<number>(19).fill(429)], 'exactly one guess was checked');
    const checked = guesses.findIndex((g) => g.status === 401);
    for (const [i, refused] of guesses.entries()) {
      if (i === checked) continue;
      assert.equal(errorCode(refused.text), 'rate_limited');
      assert.equal(refused.headers['retry-after'], '1');
      assert.ok(answeredAt[i]! < answeredAt[checked]!, 'refused before the one checked was answered');
    }
    const after = await status();
    assert.equal(after.lockedUntil, null);
    assert.equal(after.failedAttempts, 1);
    const audit = (await daemon.client.call(auditEndpoints.list, { query: { tool: 'auth.login', decision: 'deny' } })).entries;
    assert.equal(audit.filter((e) => e.reason === 'wrong password or code').length, 1);
    assert.equal(audit.filter((e) => e.reason.startsWith('rate limited')).length, 19, 'every refusal is audited');

    assert.equal((await login('127.0.0.2', { password: account.password, code: account.recoveryCodes[0]! })).status, 200, 'the owner signs in');
  });

  test('one address failing at the pace the limit allows never locks the account', async () => {
    let failures = 0;
    while (failures < 7) {
      const response = await guess('127.0.0.3', failures);
      if (response.status === 429) {
        assert.equal(errorCode(response.text), 'rate_limited');
        await sleep(Number(response.headers['retry-after']) * 1000);
        continue;
      }
      assert.equal(response.status, 401, response.text);
      failures++;
    }
    const after = await status();
    assert.equal(after.lockedUntil, null, '7 failures from one address, more than max_failures (5)');
    assert.equal(after.failedAttempts, 2, 'an address counts for at most attempts_per_address');
    assert.equal((await login('127.0.0.4', { password: account.password, code: account.recoveryCodes[1]! })).status, 200, 'the owner signs in');
    assert.equal((await status()).failedAttempts, 0, 'a sign-in clears the failures');
  });

  test('failures from enough addresses lock the account', async () => {
    for (const [i, from] of ['127.0.0.11', '127.0.0.11', '127.0.0.12', '127.0.0.12'].entries()) assert.equal((await guess(from, i)).status, 401);
    assert.deepEqual(await status().then((s) => [s.failedAttempts, s.lockedUntil]), [4, null], 'two addresses are not enough');
    assert.equal((await guess('127.0.0.13', 5)).status, 401, 'the fifth failure, from a third address');

    const locked = await login('127.0.0.14', { password: account.password, code: account.recoveryCodes[2]! });
    assert.equal(locked.status, 429);
    assert.equal(errorCode(locked.text), 'account_locked');
    const after = await status();
    assert.ok(after.lockedUntil, 'auth status shows the lockout');
    assert.equal(after.failedAttempts, 0, 'the lockout starts the count again');
    const lockouts = (await daemon.client.call(auditEndpoints.list, { query: { tool: 'auth.lockout' } })).entries;
    assert.deepEqual(lockouts.map((e) => e.answeredBy), ['tcp:127.0.0.13']);
  });
});

describe('a web session works only at the site it was issued for', () => {
  let daemon: TestDaemon;
  let url: string;
  let web: WebClient;
  before(async () => {
    // 127.0.0.1 at any port, as behind a reverse proxy: another port of the same host reaches this listener.
    const started = await startWebDaemon('web:\n  allowed_hosts:\n    - 127.0.0.1\n');
    daemon = started.daemon;
    url = started.url;
    web = new WebClient(url);
    await setUpAccount(web, daemon.output);
  });
  after(() => daemon?.dispose());

  test('a cookie replayed to another host name or port of the same listener is refused', async () => {
    const { port } = new URL(url);
    const sessions = (host: string, cookie = `${SESSION_COOKIE}=${web.cookie!}`): Promise<Sent> => send(`${url}/sessions`, { headers: { host, cookie } });
    assert.equal((await sessions(`127.0.0.1:${port}`)).status, 200, 'the site it was issued for');
    for (const host of [`localhost:${port}`, `127.0.0.1:${Number(port) === 1 ? 2 : 1}`]) {
      const replayed = await sessions(host);
      assert.equal(replayed.status, 401, `Host: ${host}`);
      assert.equal(errorCode(replayed.text), 'unauthenticated');
    }
    assert.equal((await sessions(`127.0.0.1:${port}`, `${SECURE_SESSION_COOKIE}=${web.cookie!}`)).status, 401, 'plain HTTP reads only the plain name');
    assert.equal((await web.request('GET', '/sessions')).status, 200, 'refusing the replay did not end the session');
  });
});

describe('auth limits in config.yaml', () => {
  test('max_failures must be more than attempts_per_address', async () => {
    const daemon = new TestDaemon(undefined, {}, ['--web', '--port', '0']);
    try {
      writeFileSync(path.join(daemon.home, 'config.yaml'), 'auth:\n  attempts_per_address: 5\n  max_failures: 5\n');
      await assert.rejects(daemon.start(), /auth\.max_failures \(5\) must be more than auth\.attempts_per_address \(5\)/);
    } finally {
      await daemon.dispose();
    }
  });
});
