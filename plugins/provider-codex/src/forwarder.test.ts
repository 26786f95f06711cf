import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { withUnixServer, type UnixServerHandler } from '@codepiper/sdk/testing';
import { readSecret, sessionDir, writeForwarder } from './forwarder.js';

const SESSION = '0199a213-81c0-7800-8aa1-bbab2a035a53';
const NOTIFICATION = JSON.stringify({ type: 'agent-turn-complete', 'turn-id': '1', 'last-assistant-message': 'done' });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the forwarder as Codex does (the JSON as its last argument), asynchronously: the test's server keeps answering. */
function runForwarder(script: string, args: string[]): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

describe('the Codex notify forwarder', () => {
  let pluginDir: string;
  let socket: string;
  let script: string;
  const notifyLog = () => path.join(sessionDir(pluginDir, SESSION), 'notify.log');
  const forward = () => runForwarder(script, [NOTIFICATION]);
  const serve = (handler: UnixServerHandler) => withUnixServer(socket, handler, forward);

  /** Nothing on stdout or stderr, a non-zero exit, and curl's error in notify.log. */
  function assertSilentFailure(run: Run): void {
    assert.deepEqual({ stdout: run.stdout, stderr: run.stderr }, { stdout: '', stderr: '' });
    assert.notEqual(run.code, 0);
    assert.match(readFileSync(notifyLog(), 'utf8'), /curl: \(\d+\)/);
  }

  before(async () => {
    pluginDir = mkdtempSync('/tmp/cpt-codex-fwd-');
    socket = path.join(pluginDir, 'daemon.sock');
    script = await writeForwarder({ pluginDir, sessionId: SESSION, socket, timeoutS: 1 });
  });
  beforeEach(() => rmSync(notifyLog(), { force: true }));
  after(() => rmSync(pluginDir, { recursive: true, force: true }));

  test('delivered: the daemon gets the secret and the notification; nothing printed, exit 0', async () => {
    const secret = await readSecret(pluginDir, SESSION);
    assert.ok(secret);
    assert.doesNotMatch(readFileSync(script, 'utf8'), new RegExp(secret));
    let received: { url?: string; body: string } | undefined;
    const run = await serve((req, res, body) => {
      received = { url: req.url, body };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    assert.deepEqual(run, { code: 0, stdout: '', stderr: '', ms: run.ms });
    assert.equal(received?.url, `/hooks/codex/${SESSION}`);
    assert.deepEqual(JSON.parse(received?.body ?? ''), { secret, notification: JSON.parse(NOTIFICATION) });
  });

  test('a body cut short prints nothing', async () => {
    const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n';
    assertSilentFailure(await serve((req) => req.socket.write(`${head}{"ok":true,"partial"`, () => req.socket.destroy())));
  });

  test('a 500 and a 401 print nothing', async () => {
    assertSilentFailure(await serve((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}')));
    assertSilentFailure(await serve((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}')));
  });

  test('no daemon (the socket path is absent) prints nothing', async () => {
    assert.equal(existsSync(socket), false);
    assertSilentFailure(await forward());
  });

  test('a daemon that never answers: the timeout ends it, printing nothing', async () => {
    const run = await serve(() => undefined);
    assertSilentFailure(run);
    assert.ok(run.ms < 5_000, `took ${run.ms} ms`);
  });

  test('no notification argument, or the secret file gone: nothing printed, exit 0', async () => {
    const quiet = (run: Run) => assert.deepEqual({ code: run.code, stdout: run.stdout, stderr: run.stderr }, { code: 0, stdout: '', stderr: '' });
    quiet(await runForwarder(script, []));
    rmSync(path.join(sessionDir(pluginDir, SESSION), 'secret'));
    try {
      quiet(await forward());
    } finally {
      await writeForwarder({ pluginDir, sessionId: SESSION, socket, timeoutS: 1 });
    }
  });
});
