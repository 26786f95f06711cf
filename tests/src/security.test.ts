import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiClient, ApiError, WEBSOCKET_OPERATION, type SocketEndpoint } from '@codepiper/sdk';
import { SESSION_COOKIE } from '@codepiper/auth-contract';
import { HOOK_BODY_LIMIT_BYTES } from '@codepiper/claude-code-contract';
import type { AuditEntry } from '@codepiper/audit-contract';
import type { SessionRecord } from '@codepiper/sessions-contract';
import { waitFor, type TestDaemon } from './harness.js';
import { ProbeSummary } from './probe-summary.js';
import { errorCode, setUpAccount, startWebDaemon, totp, WebClient, type Account } from './web-client.js';

/** Routes anyone may call over TCP, and routes served to the local CLI only: a new one must be added here, on purpose. */
const PUBLIC = new Set(['GET /health', 'GET /auth/session', 'POST /auth/login']);
const LOCAL = new Set(['POST /daemon/stop', 'POST /daemon/backup', 'GET /auth/status', 'POST /auth/reset-password', 'POST /auth/reset-mfa', 'GET /sessions/{id}/attach']);
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const EVIL = 'http://evil.example';
const CANARY = 'CANARY';

interface Route {
  method: string;
  path: string;
  url: string;
  /** A WebSocket endpoint (`x-websocket` in the description). */
  websocket: boolean;
}

/** Files named CANARY anywhere under `dir`. */
function canaries(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((entry) => path.basename(entry) === CANARY);
}

/** Opens a WebSocket on the TCP listener at `url` (a path, parameters filled in); resolves with the HTTP status of a refusal, or 101 once open. */
async function upgrade(baseUrl: string, url: string, headers: Record<string, string>): Promise<number> {
  try {
    const socket = await new ApiClient({ baseUrl, headers }).openSocket({ url } as SocketEndpoint);
    socket.close();
    return 101;
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
}

describe('security of the TCP listener (real daemon, real TCP)', () => {
  let daemon: TestDaemon;
  let web: WebClient;
  let url: string;
  let account: Account;
  let routes: Route[];
  let workdir: string;
  /** Everything secret this suite used: none may appear in the daemon's log or, unencrypted, in its database. */
  const secrets = new Map<string, string>();
  const summary = new ProbeSummary('security of the TCP listener: requests and probes');
  const passed = (check: string, requests = 1, variants = 1): void => summary.add(check, requests, { variants });

  before(async () => {
    workdir = mkdtempSync('/tmp/cpt-sec-');
    const started = await startWebDaemon('web:\n  trust_proxy: true\nauth:\n  attempts_per_address: 3\n  max_failures: 5\n');
    daemon = started.daemon;
    url = started.url;
    web = new WebClient(url);
    account = await setUpAccount(web, daemon.output);
    secrets.set('bootstrap password', account.bootstrapPassword);
    secrets.set('password', account.password);
    secrets.set('TOTP secret', account.totpSecret);
    account.recoveryCodes.forEach((code, i) => secrets.set(`recovery code ${i + 1}`, code));
    secrets.set('session token', web.cookie!);
    const spec = (await web.request('GET', '/openapi.json')).json<{ paths: Record<string, Record<string, Record<string, unknown>>> }>();
    routes = Object.entries(spec.paths).flatMap(([routePath, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path: routePath,
        url: routePath.replace(/\{[^}]+\}/g, 'x'),
        websocket: operation[WEBSOCKET_OPERATION] === true,
      })),
    );
  });

  after(async () => {
    summary.print();
    await daemon?.dispose();
    rmSync(workdir, { recursive: true, force: true });
  });

  test('every API route: without a session 401, with a forged session 401 (public and local-only routes aside)', async () => {
    assert.ok(routes.length > 40, `the OpenAPI document lists the routes (${routes.length})`);
    const forged = randomBytes(32).toString('base64url');
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      for (const cookie of [null, forged]) {
        const response = await web.request(route.method, route.url, { cookie });
        if (PUBLIC.has(key)) assert.ok(response.status !== 401 && response.status !== 403, `${key} is public: ${response.status}`);
        else if (LOCAL.has(key)) assert.deepEqual([response.status, errorCode(response.text)], [403, 'local_only'], key);
        else assert.deepEqual([response.status, errorCode(response.text)], [401, 'unauthenticated'], `${key} ${cookie ? 'with a forged session' : 'without a session'}`);
      }
    }
    passed('routes without a session: refused', routes.length, routes.length);
    passed('routes with a forged session: refused', routes.length, routes.length);
    const unknown = await web.request('GET', '/no/such/route', { cookie: null });
    assert.equal(unknown.status, 401, 'an unknown route does not tell a stranger it is unknown');
    const withSession = await web.request('GET', '/sessions');
    assert.equal(withSession.status, 200, 'the real session works');
    passed('unknown route without a session: 401');
  });

  test('the agents’ socket (forwarded to hosts) serves the agents’ hooks only: every other route is not found, a hook needs its session’s secret', async () => {
    const overAgents = (method: string, url: string, body = '{}') =>
      new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
        const request = http.request({ socketPath: daemon.agentSocketPath, method, path: url, headers: { 'content-type': 'application/json' } }, (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, code: errorCode(text) }));
        });
        request.once('error', reject);
        request.end(method === 'GET' || method === 'DELETE' ? undefined : body);
      });
    const hooks = routes.filter((route) => route.path.startsWith('/hooks/'));
    assert.deepEqual(hooks.map((route) => route.path).sort(), ['/hooks/claude-code/{session}', '/hooks/codex/{session}']);
    for (const route of [...routes.filter((r) => !hooks.includes(r)), { method: 'GET', url: '/openapi.json' }, { method: 'GET', url: '/' }]) {
      assert.deepEqual(await overAgents(route.method, route.url), { status: 404, code: 'not_found' }, `${route.method} ${route.url}`);
    }
    passed('routes over the agents’ socket: not served', routes.length - hooks.length, routes.length - hooks.length);
    const session = '00000000-0000-4000-8000-000000000000';
    // Refused before the body is read: not parsed (not JSON), not checked (no event), not taken in (over the limit).
    const bodies = { 'an event': '{"hook_event_name":"Stop"}', 'a body that is not JSON': 'not json', 'no event': '{}', 'a body over the limit': 'x'.repeat(HOOK_BODY_LIMIT_BYTES + 1) };
    for (const provider of ['claude-code', 'codex']) {
      for (const [what, body] of Object.entries(bodies)) {
        const forged = await overAgents('POST', `/hooks/${provider}/${session}`, body);
        assert.deepEqual(forged, { status: 401, code: 'unauthorized' }, `a ${provider} hook without its session’s secret, with ${what}`);
      }
    }
    assert.equal(statSync(daemon.agentSocketPath).mode & 0o777, 0o600);
  });

  test('state-changing routes: another origin or none is refused (403) before anything runs', async () => {
    const changing = routes.filter((r) => STATE_CHANGING.has(r.method));
    for (const route of changing) {
      const key = `${route.method} ${route.path}`;
      const cross = await web.request(route.method, route.url, { headers: { origin: EVIL } });
      assert.equal(cross.status, 403, `${key} from ${EVIL}`);
      assert.ok(['cross_origin', 'local_only'].includes(errorCode(cross.text)!), `${key}: ${cross.text}`);
      const none = await web.request(route.method, route.url, { headers: { origin: '' } });
      assert.equal(none.status, 403, `${key} without an Origin`);
    }
    passed('state-changing routes cross-origin: 403', changing.length, changing.length);
    passed('state-changing routes without Origin: 403', changing.length, changing.length);
    assert.equal((await web.request('GET', '/sessions')).status, 200, 'a read from the same site needs no Origin check');
    const before = (await web.request('GET', '/policies')).json<{ policies: unknown[] }>().policies.length;
    await web.request('POST', '/policies', { headers: { origin: EVIL }, body: { action: 'allow', tool: 'Bash' } });
    assert.equal((await web.request('GET', '/policies')).json<{ policies: unknown[] }>().policies.length, before, 'nothing was created');
  });

  test('every WebSocket endpoint in the API description: an upgrade needs a session and the same origin', async () => {
    const sockets = routes.filter((route) => route.websocket);
    assert.deepEqual(sockets.map((route) => route.path).sort(), ['/analytics/imports/{id}/progress', '/events/stream', '/sessions/{id}/terminal'], 'the description lists the WebSockets');
    const cookie = `${SESSION_COOKIE}=${web.cookie}`;
    for (const route of sockets) {
      assert.equal(await upgrade(url, route.url, { origin: url }), 401, `${route.path} without a session`);
      assert.equal(await upgrade(url, route.url, { origin: url, cookie: `${SESSION_COOKIE}=forged` }), 401, `${route.path} forged`);
      assert.equal(await upgrade(url, route.url, { origin: EVIL, cookie }), 403, `${route.path} cross-origin`);
      assert.equal(await upgrade(url, route.url, { cookie }), 403, `${route.path} without Origin`);
      assert.equal((await web.request('GET', route.url)).status, 426, `${route.path}: a plain GET, signed in, is told to upgrade`);
    }
    assert.equal(await upgrade(url, '/events/stream', { origin: url, cookie }), 101, 'signed in, same origin: open');
    passed('WebSocket upgrades refused (no session, forged, cross-origin, no Origin)', sockets.length * 4, sockets.length * 4);
  });

  test('malformed and oversized bodies: 400 and 413, JSON errors naming the fault', async () => {
    const malformed = await web.request('POST', '/policies', { body: '{"action": "allow", ' });
    assert.equal(malformed.status, 400);
    assert.equal(errorCode(malformed.text), 'invalid_json');
    const wrongShape = await web.request('POST', '/policies', { body: { action: 'allow', tool: 'Bash', colour: 'red' } });
    assert.equal(wrongShape.status, 400);
    assert.equal((JSON.parse(wrongShape.text) as { error: { message: string } }).error.message, '"colour" is not a field of this request');
    const huge = JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) });
    const oversized = await web.request('POST', '/sessions/x/input', { body: huge });
    assert.equal(oversized.status, 413);
    assert.equal(errorCode(oversized.text), 'payload_too_large');
    // A client still sending when the 413 comes (a phone uploading) gets it, not a reset.
    const headers = { origin: url, cookie: `${SESSION_COOKIE}=${web.cookie}`, 'content-type': 'application/json' };
    assert.equal(await sendAfterAnswer(`${url}/sessions/x/input`, headers, huge), 413);
    const strangers = await web.request('POST', '/sessions/x/input', { body: huge, cookie: null });
    assert.equal(strangers.status, 401, 'a stranger’s body is refused before it is read');
    passed('malformed, wrongly shaped and oversized bodies', 4);
  });

  test('shell and tmux metacharacters in names, directories and typed text are stored and typed literally', async () => {
    const nasty = `$(touch ${CANARY}) \`touch ${CANARY}\` ; touch ${CANARY} #(touch ${CANARY}) #{session_name} ' " \\ && | < > %% ~ $HOME`;
    const dir = path.join(workdir, `d $(touch ${CANARY}) #(touch ${CANARY}) ;'"`);
    mkdirSync(dir);
    const name = `n $(touch ${CANARY}) #(touch ${CANARY}) #{pane_id} ;'"`;
    const created = await web.request('POST', '/sessions', { body: { provider: 'shell', cwd: dir, name, args: ['sh', '-c', 'pwd; exec cat'] } });
    assert.equal(created.status, 201, created.text);
    const session = created.json<SessionRecord>();
    assert.equal(session.name, name);
    assert.equal(session.cwd, dir);
    let lastScreen = '';
    const screenLines = async (): Promise<string[]> => {
      lastScreen = (await web.request('GET', `/sessions/${session.id}/screen`)).json<{ text: string }>().text;
      return lastScreen.split('\n').map((line) => line.trimEnd());
    };
    const showScreen = (): string => `the screen:\n${lastScreen}`;
    // Typed while the program still starts, the text's echo would share a line with what it prints.
    await waitFor('pwd to print the directory as named', async () => (await screenLines()).includes(dir), undefined, showScreen);
    const typed = await web.request('POST', `/sessions/${session.id}/input`, { body: { text: nasty } });
    assert.equal(typed.status, 200, typed.text);
    await waitFor('the typed text echoed by the terminal and by cat', async () => (await screenLines()).filter((line) => line === nasty).length >= 2, undefined, showScreen);
    assert.equal((await web.request('GET', `/sessions/${session.id}`)).json<SessionRecord>().name, name);
    assert.deepEqual(canaries(workdir), [], 'nothing was executed');
    assert.deepEqual(canaries(daemon.home), []);
    passed('metacharacters in a name, a directory and typed text: literal, no canary', 3);
  });

  test('directories that do not exist, are not directories or are relative are refused', async () => {
    const file = path.join(workdir, 'a-file');
    writeFileSync(file, '');
    for (const cwd of [path.join(workdir, 'missing'), file, 'relative/dir', `${file}/..`, `${workdir}/../../no-such-dir-${randomBytes(4).toString('hex')}`]) {
      const response = await web.request('POST', '/sessions', { body: { provider: 'shell', cwd, args: ['cat'] } });
      assert.equal(response.status, 400, `${cwd}: ${response.text}`);
    }
    passed('bad directories refused', 5);
  });

  test('named secrets: encrypted at rest, in the session’s environment only, never in argv, records, events or responses', async () => {
    const value = `s3cret-${randomBytes(12).toString('hex')}-$(touch ${CANARY})`;
    secrets.set('named secret', value);
    const set = await daemon.cli(['secret', 'set', 'MY_TOKEN'], { input: `${value}\n` });
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await daemon.cli(['secret', 'set', '1BAD'], { input: 'x' })).code, 2);
    const list = await daemon.cli(['secret', 'list']);
    assert.match(list.stdout, /^MY_TOKEN\s/m);
    assert.ok(!list.stdout.includes(value));
    const overTcp = await web.request('GET', '/secrets');
    assert.deepEqual(overTcp.json<{ secrets: { name: string }[] }>().secrets.map((s) => s.name), ['MY_TOKEN']);
    assert.ok(!overTcp.text.includes(value));
    const keyFile = path.join(daemon.home, 'plugins', 'secrets', 'secret.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);

    const unknown = await daemon.cli(['start', '-p', 'shell', '-d', workdir, '--secret', 'NOPE', '--', 'cat']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no secret named NOPE/);
    const started = await daemon.cli(['start', '-p', 'shell', '-d', workdir, '--secret', 'MY_TOKEN', '--json', '--', 'sh', '-c', 'printenv MY_TOKEN | sha256sum; exec cat']);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    const digest = createHash('sha256').update(`${value}\n`).digest('hex');
    await waitFor('the session to see the secret', async () => (await web.request('GET', `/sessions/${session.id}/screen`)).text.includes(digest));
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
    assert.ok(!ps.includes(value), 'not in any process’s arguments');
    for (const where of [`/sessions/${session.id}`, '/sessions', `/events?session=${session.id}`, '/events']) {
      assert.ok(!(await web.request('GET', where)).text.includes(value), `not in GET ${where}`);
    }
    assert.deepEqual(canaries(workdir), []);
    assert.equal((await daemon.cli(['secret', 'rm', 'MY_TOKEN'])).code, 0);
    assert.equal((await daemon.cli(['secret', 'rm', 'MY_TOKEN'])).code, 1, 'a second rm: not found');
    const audit = JSON.parse((await daemon.cli(['audit', '--tool', 'secrets.*', '--json'])).stdout) as { entries: AuditEntry[] };
    assert.deepEqual(audit.entries.map((e) => e.tool), ['secrets.set', 'secrets.remove']);
    passed('named secret kept out of argv, records, events and responses', 6);
  });

  test('concurrent guesses from 20 addresses of one IPv6 /64: one is checked, none locks the account', async () => {
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        web.request('POST', '/auth/login', { body: { password: `concurrent guess ${i}`, code: '000000' }, cookie: null, headers: { 'x-forwarded-for': `2001:db8:1:2::${(i + 1).toString(16)}` } }),
      ),
    );
    assert.deepEqual(guesses.map((g) => g.status).sort(), [401, ...Array<number>(19).fill(429)], 'one /64 is one address: one guess checked at a time');
    const status = JSON.parse((await daemon.cli(['auth', 'status', '--json'])).stdout) as { lockedUntil: string | null; failedAttempts: number };
    assert.deepEqual([status.lockedUntil, status.failedAttempts], [null, 1]);
    // The owner's sign-in clears the failures, for the brute-force test below.
    const owner = await web.request('POST', '/auth/login', { body: { password: account.password, code: totp(account.totpSecret, 1) }, cookie: null, headers: { 'x-forwarded-for': '198.51.100.7' } });
    assert.equal(owner.status, 200, owner.text);
    summary.add('concurrent sign-in guesses from one IPv6 /64', guesses.length, { variants: guesses.length, accepted: guesses.filter((g) => g.status === 200).length });
  });

  test('brute force: the address is rate-limited, then the account locks with a clear retry time', async () => {
    const attempt = (address: string, body: Record<string, string>) => web.request('POST', '/auth/login', { body, cookie: null, headers: { 'x-forwarded-for': address } });
    for (let i = 0; i < 3; i++) assert.equal((await attempt('203.0.113.1', { password: `guess number ${i}`, code: '000000' })).status, 401);
    const limited = await attempt('203.0.113.1', { password: 'guess number 4', code: '000000' });
    assert.equal(limited.status, 429);
    assert.equal(errorCode(limited.text), 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    passed('per-address rate limit after 3 failures', 4);

    assert.equal((await attempt('203.0.113.2', { password: 'guess number 5', code: '000000' })).status, 401);
    assert.equal((await attempt('203.0.113.2', { password: 'guess number 6', code: '000000' })).status, 401, 'the fifth failure: the account locks');
    const locked = await attempt('203.0.113.3', { password: account.password, code: totp(account.totpSecret, 1) });
    assert.equal(locked.status, 429, 'even the right password and code wait for the lockout');
    assert.equal(errorCode(locked.text), 'account_locked');
    assert.match(locked.text, /locked until \d{4}-\d\d-\d\dT[\d:.]+Z \(try again in \d+ s\)/);
    assert.ok(Number(locked.headers.get('retry-after')) > 800);
    const status = JSON.parse((await daemon.cli(['auth', 'status', '--json'])).stdout) as { lockedUntil: string | null };
    assert.ok(status.lockedUntil, 'auth status shows the lockout');
    const audit = JSON.parse((await daemon.cli(['audit', '--tool', 'auth.lockout', '--json'])).stdout) as { entries: AuditEntry[] };
    assert.equal(audit.entries.length, 1);
    assert.equal(audit.entries[0]!.answeredBy, 'tcp:203.0.113.2');
    passed('account lockout after 5 failures, from any address', 3);
  });

  test('no secret this suite used is in the daemon log, nor unencrypted in its database', async () => {
    await daemon.stop();
    const log = readFileSync(path.join(daemon.home, 'logs', 'daemon.log'), 'utf8');
    assert.ok(log.length > 1000, 'the daemon logged (at debug level)');
    const database = readdirSync(daemon.home)
      .filter((f) => f.startsWith('codepiper.db'))
      .map((f) => readFileSync(path.join(daemon.home, f)).toString('latin1'))
      .join('');
    for (const [what, value] of secrets) {
      assert.ok(!log.includes(value), `the ${what} is in the daemon log`);
      assert.ok(!database.includes(value), `the ${what} is in the database unencrypted`);
    }
    passed('secrets absent from the log and the database', secrets.size);
  });
});

/**
 * POSTs `body` in two parts: the headers and its first 64 KB, then, once the
 * whole answer has come, the rest. Resolves with the answer's status when all
 * of it was written; rejects if the server hung up (or reset) meanwhile.
 */
function sendAfterAnswer(target: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
    req.on('error', reject);
    req.on('response', (res) => {
      const hungUp = () => reject(new Error('the server hung up while the body was still being sent'));
      res.socket.once('end', hungUp).once('close', hungUp);
      res.resume();
      res.on('end', () => req.end(body.slice(65_536), () => resolve(res.statusCode ?? 0)));
    });
    req.write(body.slice(0, 65_536));
  });
}
