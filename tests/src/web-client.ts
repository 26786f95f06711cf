import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { generateSync } from 'otplib';
import { daemonEndpoints } from '@codepiper/sdk';
import { sessionCookieName } from '@codepiper/auth-contract';
import { TestDaemon } from './harness.js';

export interface WebResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

/** A browser-like client of the TCP listener: it keeps the session cookie and sends its own origin. */
export class WebClient {
  cookie: string | undefined;
  /** The session cookie's name: `__Host-` prefixed under TLS. */
  readonly cookieName: string;

  constructor(readonly baseUrl: string) {
    this.cookieName = sessionCookieName(new URL(baseUrl).protocol === 'https:');
  }

  /** `body` is JSON-encoded unless it is a string (sent as is, as JSON). */
  async request(method: string, url: string, options: { body?: unknown; headers?: Record<string, string>; cookie?: string | null } = {}): Promise<WebResponse> {
    const cookie = options.cookie === undefined ? this.cookie : options.cookie;
    const headers: Record<string, string> = { origin: this.baseUrl, ...(cookie ? { cookie: `${this.cookieName}=${cookie}` } : {}), ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(new URL(url, this.baseUrl), { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith(`${this.cookieName}=`));
    if (setCookie) this.cookie = /^[^=]+=([^;]*)/.exec(setCookie)![1] || undefined;
    return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
  }
}

/** The `error.code` of a JSON error body. */
export const errorCode = (text: string): string | undefined => (JSON.parse(text) as { error?: { code?: string } }).error?.code;

/** A TOTP code for `secret`, `stepsAhead` 30-second steps from now (one step of drift is accepted). */
export const totp = (secret: string, stepsAhead = 0): string => generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + stepsAhead * 30 });

export interface Account {
  password: string;
  bootstrapPassword: string;
  totpSecret: string;
  recoveryCodes: string[];
}

/** A daemon listening on TCP (port 0), with `config` as its config.yaml; resolves once it answers, with its web URL. */
/**
 * A TCP port free now, below the range the kernel hands out for outgoing
 * connections (ip_local_port_range starts at 32768): a daemon restarted on it
 * finds it free again, as a browser page that reconnects needs.
 */
export async function stablePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
}

/** A daemon with the web listener on `port` (any free one by default), its config.yaml `config`. */
export async function startWebDaemon(config: string, extraEnv: Record<string, string> = {}, port = 0): Promise<{ daemon: TestDaemon; url: string }> {
  const daemon = new TestDaemon(undefined, { CODEPIPER_LOG_LEVEL: 'debug', ...extraEnv }, ['--web', '--port', String(port)]);
  writeFileSync(path.join(daemon.home, 'config.yaml'), config);
  await daemon.start();
  const { web } = await daemon.client.call(daemonEndpoints.status);
  assert.ok(web, 'the daemon reports its web URL');
  return { daemon, url: web };
}

/** The bootstrap password the daemon printed on its first run. */
export function bootstrapPassword(output: string): string {
  const match = /bootstrap password\n {2}(\S+)\n/.exec(output);
  assert.ok(match, `the daemon printed a bootstrap password:\n${output}`);
  return match[1]!;
}

/** First run over HTTP, as the dashboard does it: bootstrap password, permanent password, TOTP confirmed; leaves `web` signed in. */
export async function setUpAccount(web: WebClient, daemonOutput: string, password = 'correct horse battery staple'): Promise<Account> {
  const bootstrap = bootstrapPassword(daemonOutput);
  assert.equal((await web.request('POST', '/auth/login', { body: { password: bootstrap } })).status, 200);
  assert.equal((await web.request('POST', '/auth/setup/password', { body: { password } })).status, 200);
  const enrollment = await web.request('POST', '/auth/setup/totp');
  assert.equal(enrollment.status, 200, enrollment.text);
  const { secret } = enrollment.json<{ secret: string }>();
  const confirmed = await web.request('POST', '/auth/setup/totp/confirm', { body: { code: totp(secret) } });
  assert.equal(confirmed.status, 200, confirmed.text);
  return { password, bootstrapPassword: bootstrap, totpSecret: secret, recoveryCodes: confirmed.json<{ recoveryCodes: string[] }>().recoveryCodes };
}
