import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { daemonEndpoints } from '@codepiper/sdk';
import type { AuditEntry } from '@codepiper/audit-contract';
import type { AuthStatus } from '@codepiper/auth-contract';
import type { Policy } from '@codepiper/policies-contract';
import { selfSignedCertificate } from './certificates.js';
import { TestDaemon, waitFor } from './harness.js';
import { ProbeSummary } from './probe-summary.js';
import { errorCode, setUpAccount, startWebDaemon, WebClient } from './web-client.js';

const CANARY = 'CANARY';
/** A name the plain listener is configured to answer to (`web.allowed_hosts`), as behind a reverse proxy. */
const ALLOWED_HOST = 'codepiper.test';
/** How often each variant is sent: before the fix, 48 of 50 such requests got through. */
const ROUNDS = 5;

interface Listener {
  name: string;
  daemon: TestDaemon;
  url: string;
  tls: boolean;
}

interface Probe {
  what: string;
  method: string;
  path: string;
  body?: unknown;
  origin: boolean;
}

/** An HTTP/1.1 request as bytes, with `?probe=ID` so that the daemon log tells which ones reached the gate. */
function rawRequest(listener: Listener, probe: Probe, id: string): string {
  const host = new URL(listener.url).host;
  const payload = probe.body === undefined ? '' : JSON.stringify(probe.body);
  const headers = [
    `${probe.method} ${probe.path}?probe=${id} HTTP/1.1`,
    `Host: ${host}`,
    ...(probe.origin ? [`Origin: ${listener.url}`] : []),
    ...(probe.body === undefined ? [] : ['Content-Type: application/json']),
    `Content-Length: ${Buffer.byteLength(payload)}`,
  ];
  return `${headers.join('\r\n')}\r\n\r\n${payload}`;
}

/**
 * Sends `payload` on a new connection (over TLS if the listener speaks it),
 * then resets the connection (SO_LINGER 0: an RST, no FIN) at once or once
 * the bytes are written.
 */
async function sendThenReset(listener: Listener, payload: string, when: 'at once' | 'once written'): Promise<void> {
  const raw = net.connect({ host: '127.0.0.1', port: Number(new URL(listener.url).port) });
  raw.on('error', () => undefined);
  await once(raw, 'connect');
  let stream: net.Socket = raw;
  if (listener.tls) {
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
    secure.on('error', () => undefined);
    await once(secure, 'secureConnect');
    stream = secure;
  }
  const closed = once(raw, 'close');
  if (when === 'at once') stream.write(payload);
  else await new Promise<void>((resolve) => stream.write(payload, () => resolve()));
  raw.resetAndDestroy();
  await closed;
}

/** The probe ids the daemon's log shows refused at the gate (it logs at debug level). */
function refusedProbes(daemon: TestDaemon): Set<string> {
  const log = readFileSync(path.join(daemon.home, 'logs', 'daemon.log'), 'utf8');
  const ids = new Set<string>();
  for (const line of log.split('\n')) {
    if (!line.includes('TCP request refused')) continue;
    const id = /[?&]probe=([\w-]+)/.exec((JSON.parse(line) as { url?: string }).url ?? '')?.[1];
    if (id) ids.add(id);
  }
  return ids;
}

/** Waits until the daemon has logged no new refusal for a second: what was going to reach it has. */
async function settled(daemon: TestDaemon): Promise<Set<string>> {
  let last = -1;
  return waitFor(
    'the daemon to finish with the probes',
    async () => {
      const ids = refusedProbes(daemon);
      if (ids.size === last) return ids;
      last = ids.size;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return false;
    },
    60_000,
  );
}

/** A request with any headers (Host included), over HTTPS without checking the test's self-signed certificate. */
function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? https.request : http.request;
    const req = send(url, { method: options.method ?? 'GET', headers: options.headers, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the web edge of `daemon --web`, tried as an attacker would (plain HTTP and TLS)', { timeout: 240_000 }, () => {
  const summary = new ProbeSummary('the web edge: requests tried as an attacker would');
  const listeners: Listener[] = [];
  let workdir: string;
  const listener = (name: string): Listener => listeners.find((l) => l.name === name)!;

  before(async () => {
    workdir = mkdtempSync('/tmp/cpt-edge-');
    const plain = await startWebDaemon(`web:\n  allowed_hosts: [${ALLOWED_HOST}]\n`);
    await setUpAccount(new WebClient(plain.url), plain.daemon.output);
    listeners.push({ name: 'plain', ...plain, tls: false });
    const { cert, key } = selfSignedCertificate(workdir);
    const secure = new TestDaemon(undefined, { CODEPIPER_LOG_LEVEL: 'debug' }, ['--web', '--port', '0', '--tls-cert', cert, '--tls-key', key]);
    await secure.start();
    const { web } = await secure.client.call(daemonEndpoints.status);
    listeners.push({ name: 'TLS', daemon: secure, url: web!, tls: true });
  });

  after(async () => {
    summary.print();
    for (const { daemon } of listeners) await daemon.dispose();
    rmSync(workdir, { recursive: true, force: true });
  });

  for (const name of ['plain', 'TLS']) {
    test(`${name}: unauthenticated requests then a reset start nothing, run nothing and change no setting; local-only routes stay local`, async () => {
      const target = listener(name);
      const { daemon } = target;
      const statusBefore = JSON.parse((await daemon.cli(['auth', 'status', '--json'])).stdout) as AuthStatus;
      const probes: Probe[] = [
        { what: 'start a session', method: 'POST', path: '/sessions', body: { provider: 'shell', cwd: workdir, args: ['sh', '-c', `touch ${CANARY}`] }, origin: false },
        { what: 'start a session (same origin)', method: 'POST', path: '/sessions', body: { provider: 'shell', cwd: workdir, args: ['sh', '-c', `touch ${CANARY}`] }, origin: true },
        { what: 'allow everything', method: 'POST', path: '/policies', body: { action: 'allow', tool: '*' }, origin: true },
        { what: 'reset the password (local only)', method: 'POST', path: '/auth/reset-password', body: { password: 'an attacker’s new password' }, origin: true },
        { what: 'reset TOTP (local only)', method: 'POST', path: '/auth/reset-mfa', origin: true },
        { what: 'stop the daemon (local only)', method: 'POST', path: '/daemon/stop', origin: false },
      ];
      const sent: string[] = [];
      let variants = 0;
      const send = async (payload: (id: string) => string, count: number, when: 'at once' | 'once written'): Promise<void> => {
        variants++;
        for (let round = 0; round < ROUNDS; round++) {
          const id = `${name}-${variants}-${round}`;
          sent.push(...Array.from({ length: count }, () => id));
          await sendThenReset(target, payload(id), when);
        }
      };
      for (const when of ['at once', 'once written'] as const) {
        for (const probe of probes) await send((id) => rawRequest(target, probe, id), 1, when);
        // Three requests pipelined on one connection.
        await send((id) => [probes[0]!, probes[2]!, probes[3]!].map((probe) => rawRequest(target, probe, id)).join(''), 3, when);
      }
      const reached = await settled(daemon);
      const stopped = await daemon.client.call(daemonEndpoints.health).then(
        () => false,
        () => true,
      );
      if (stopped) {
        summary.add(`${name}: requests then a reset`, sent.length, { variants, accepted: 1 });
        assert.fail('a stranger stopped the daemon over TCP');
      }

      const { sessions } = JSON.parse((await daemon.cli(['ls', '--json'])).stdout) as { sessions: unknown[] };
      const policies = (JSON.parse((await daemon.cli(['policy', 'list', '--json'])).stdout) as { policies: Policy[] }).policies.filter((policy) => !policy.builtin);
      const audit = JSON.parse((await daemon.cli(['audit', '--json'])).stdout) as { entries: AuditEntry[] };
      const statusAfter = JSON.parse((await daemon.cli(['auth', 'status', '--json'])).stdout) as AuthStatus;
      const local = audit.entries.filter((entry) => entry.answeredBy === 'unix:local');
      const canaries = readdirSync(workdir).filter((file) => file === CANARY);
      const effects = [sessions.length, policies.length, local.length, canaries.length, statusAfter.passwordSet !== statusBefore.passwordSet, statusAfter.mfaEnrolled !== statusBefore.mfaEnrolled];
      summary.add(`${name}: requests then a reset (${reached.size} of ${new Set(sent).size} connections reached the gate)`, sent.length, { variants, accepted: effects.filter(Boolean).length });

      assert.ok(reached.size > 0, 'some probes reached the daemon (else this test could not fail)');
      assert.deepEqual(sessions, [], 'no session was started');
      assert.deepEqual(canaries, [], 'no command ran');
      assert.deepEqual(policies, [], 'no policy was made');
      assert.deepEqual(local, [], 'nothing was recorded as done by the local CLI');
      assert.deepEqual([statusAfter.passwordSet, statusAfter.mfaEnrolled], [statusBefore.passwordSet, statusBefore.mfaEnrolled], 'the password and TOTP are as they were');
    });
  }

  test('every response of the TCP listener carries the security headers; HSTS only under TLS', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) });
    const tries: { what: string; path: string; method?: string; headers?: Record<string, string>; body?: string }[] = [
      { what: 'the dashboard', path: '/' },
      { what: 'a public route', path: '/health' },
      { what: 'a route without a session', path: '/sessions' },
      { what: 'an unknown route', path: '/no/such/route' },
      { what: 'a WebSocket route as a plain GET', path: '/events/stream' },
      { what: 'a state change without Origin', path: '/sessions', method: 'POST', body: '{}' },
      { what: 'a local-only route', path: '/daemon/stop', method: 'POST' },
      { what: 'a body too large', path: '/auth/login', method: 'POST', body: big },
      { what: 'malformed JSON', path: '/auth/login', method: 'POST', body: '{"password": ' },
      { what: 'a Host the listener does not answer to', path: '/health', headers: { host: 'evil.example' } },
    ];
    let requests = 0;
    for (const { name, url, tls: secure } of listeners) {
      for (const attempt of tries) {
        const headers = { origin: url, 'content-type': 'application/json', ...attempt.headers };
        const response = await request(url + attempt.path, { method: attempt.method, headers, body: attempt.body });
        requests++;
        const where = `${name}, ${attempt.what} (${response.status})`;
        const csp = String(response.headers['content-security-policy'] ?? '');
        assert.match(csp, /(^|;)\s*frame-ancestors 'none'/, `${where}: CSP forbids framing`);
        assert.match(csp, /(^|;)\s*script-src 'self'(;|$)/, `${where}: CSP allows no inline script`);
        assert.match(csp, /(^|;)\s*object-src 'none'/, where);
        assert.equal(response.headers['x-frame-options'], 'DENY', where);
        assert.equal(response.headers['x-content-type-options'], 'nosniff', where);
        assert.equal(response.headers['referrer-policy'], 'no-referrer', where);
        if (secure) assert.match(String(response.headers['strict-transport-security']), /max-age=\d{7,}/, `${where}: HSTS`);
        else assert.equal(response.headers['strict-transport-security'], undefined, `${where}: no HSTS over plain HTTP`);
      }
    }
    summary.add('responses checked for CSP, framing, sniffing, referrer and HSTS headers', requests, { variants: tries.length * listeners.length });
  });

  test('Host check: a name the listener does not answer to is refused before any handler (DNS rebinding)', async () => {
    const { url } = listener('plain');
    const port = new URL(url).port;
    const refused = [`evil.example:${port}`, `rebind.attacker.test:${port}`, 'evil.example', `127.0.0.1:${Number(port) + 1}`, `localhost:${Number(port) + 1}`, `${ALLOWED_HOST}.evil.example:${port}`, `127.0.0.1:${port}@evil.example`];
    let requests = 0;
    for (const host of refused) {
      for (const [method, path, body] of [['GET', '/', undefined], ['GET', '/health', undefined], ['POST', '/auth/login', '{"password":"correct horse battery staple"}']] as const) {
        const response = await request(url + path, { method, headers: { host, origin: `http://${host}`, 'content-type': 'application/json' }, body });
        requests++;
        assert.equal(response.status, 403, `Host ${JSON.stringify(host)}, ${method} ${path}: ${response.text}`);
        assert.equal(errorCode(response.text), 'host_not_allowed');
      }
    }
    // HTTP/1.0 may leave Host out altogether; an empty one is no better.
    for (const head of ['GET /health HTTP/1.0\r\n\r\n', 'GET /health HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n']) {
      const socket = net.connect({ host: '127.0.0.1', port: Number(port) });
      socket.end(head);
      let answer = '';
      for await (const chunk of socket) answer += String(chunk);
      requests++;
      assert.match(answer, /^HTTP\/1\.1 (403|400) /, `${JSON.stringify(head)}:\n${answer}`);
    }
    summary.add('requests naming a Host the listener does not answer to', requests, { variants: refused.length + 2 });

    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, ALLOWED_HOST, `${ALLOWED_HOST}:8443`]) {
      const response = await request(`${url}/health`, { headers: { host } });
      assert.equal(response.status, 200, `Host ${host} is the listener's own or an allowed one: ${response.text}`);
    }
  });
});
