import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { raceTimeout } from '@codepiper/sdk';
import { listProcesses, withUnixServer, type UnixServerHandler } from '@codepiper/sdk/testing';
import { OFFLINE_KEPT_HEADER, PERSON_WAIT_S, takeOfflineToolCalls } from '@codepiper/sessions-contract/agent-hooks';
import { FALLBACK_ASK, type SessionFiles, writeSessionFiles } from './launch.js';

const SESSION = '48f21afd-32d0-4cbb-bea0-38d671d5f68c';
const PAYLOAD = JSON.stringify({ session_id: SESSION, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' } });
const POST_PAYLOAD = JSON.stringify({ session_id: SESSION, hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'ls' } });
const ANSWER = JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow' } });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface Received {
  url?: string;
  authorization?: string;
  body: string;
}

/** Runs the forwarder with sh as the settings call it, asynchronously: the test's own server must keep answering meanwhile. */
function runForwarder(script: string, event: string, input: string): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [script, event, '1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    child.stdin.end(input);
  });
}

/** The command lines of this user's processes that contain `text`. */
const commandLinesHolding = (text: string): string[] => listProcesses().flatMap((p) => (p.command.includes(text) ? [p.command] : []));

function assertSilentFailure(run: Run): void {
  assert.deepEqual({ stdout: run.stdout, stderr: run.stderr }, { stdout: '', stderr: '' });
  assert.equal(run.code, 1);
}

/** A PreToolUse the daemon did not answer asks the person: exactly the fallback, exit 0. */
function assertAsks(run: Run): void {
  assert.deepEqual({ code: run.code, stdout: run.stdout, stderr: run.stderr }, { code: 0, stdout: FALLBACK_ASK, stderr: '' });
}

/** A failure seen by a PreToolUse (asks) and by a PostToolUse (silent, exit 1). */
type Failure = (forward: (event: string, payload: string) => Promise<Run>) => Promise<Run>;

describe('the Claude Code hook forwarder', () => {
  let dir: string;
  let socket: string;
  let files: SessionFiles;
  const forward = () => runForwarder(files.forwarderPath, 'PreToolUse', PAYLOAD);
  const serve = (handler: UnixServerHandler) => withUnixServer(socket, handler, forward);
  /** Runs `failure` for a PreToolUse, then a PostToolUse: the first asks, the second is silent. */
  const bothFail = async (failure: Failure): Promise<Run[]> => {
    const pre = await failure((event, payload) => runForwarder(files.forwarderPath, event, payload));
    assertAsks(pre);
    const post = await failure((_event, _payload) => runForwarder(files.forwarderPath, 'PostToolUse', POST_PAYLOAD));
    assertSilentFailure(post);
    return [pre, post];
  };
  const serving = (handler: UnixServerHandler): Failure => (run) => withUnixServer(socket, handler, () => run('PreToolUse', PAYLOAD));

  const tmpBefore = process.env.TMPDIR;
  before(async () => {
    dir = mkdtempSync('/tmp/cpt-cc-fwd-');
    socket = path.join(dir, 'daemon.sock');
    files = await writeSessionFiles({ dir: path.join(dir, 'session'), sessionId: SESSION, daemonSocket: socket, timeoutS: 1 });
    // The forwarders these tests run inherit it: what a hook leaves in a temporary directory shows there.
    process.env.TMPDIR = path.join(dir, 'tmp');
    mkdirSync(process.env.TMPDIR);
  });
  after(() => {
    process.env.TMPDIR = tmpBefore;
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    // Hooks carry tool inputs and outputs (up to 64 MiB each, many per turn): none may stay behind, answered, failed or ended by a signal.
    assert.deepEqual(readdirSync(path.join(dir, 'tmp')), [], 'nothing left in TMPDIR');
    const kept = new Set(['settings.json', 'hook.sh', 'hook.curl', 'offline.jsonl']);
    assert.deepEqual(readdirSync(path.dirname(files.forwarderPath)).filter((name) => !kept.has(name)), [], 'nothing left beside the script');
  });

  test('the secret is in the 0600 curl config only, never in the script nor in any argv', async () => {
    assert.doesNotMatch(readFileSync(files.forwarderPath, 'utf8'), new RegExp(files.secret));
    assert.match(readFileSync(files.curlConfigPath, 'utf8'), new RegExp(files.secret));
    let argvSeen: { curl: string[]; secret: string[] } | undefined;
    const run = await serve((_req, res) => {
      if (existsSync('/proc/self/cmdline')) argvSeen = { curl: commandLinesHolding(files.curlConfigPath), secret: commandLinesHolding(files.secret) };
      res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
    });
    assert.equal(run.code, 0, run.stderr);
    if (argvSeen) {
      assert.ok(argvSeen.curl.some((argv) => argv.startsWith('curl ')), 'curl was running while the daemon answered');
      assert.deepEqual(argvSeen.secret, []);
    }
  });

  test('a full answer: printed exactly, exit 0; the daemon got the payload and the secret', async () => {
    let received: Received | undefined;
    const run = await serve((req, res, body) => {
      received = { url: req.url, authorization: req.headers.authorization, body };
      res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
    });
    assert.deepEqual(run, { code: 0, stdout: ANSWER, stderr: '', ms: run.ms });
    assert.deepEqual(received, { url: `/hooks/claude-code/${SESSION}`, authorization: `Bearer ${files.secret}`, body: PAYLOAD });
  });

  test('a body cut short (Content-Length 100, 20 bytes sent, then the socket destroyed): ask, or nothing', async () => {
    const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n';
    await bothFail(serving((req) => req.socket.write(`${head}{"hookSpecificOutput`, () => req.socket.destroy())));
  });

  test('a chunked body whose socket is destroyed midway: ask, or nothing', async () => {
    await bothFail(
      serving((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.write('{"hookSpecificOutput":{"permissionDecision":', () => res.socket?.destroy());
      }),
    );
  });

  test('a 500 with a JSON body: ask, or nothing', async () => {
    await bothFail(serving((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}')));
  });

  test('a 401 (wrong secret): ask, or nothing', async () => {
    await bothFail(serving((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}')));
  });

  test('a 200 whose body is not JSON (or a JSON object cut short with no Content-Length): ask, or nothing', async () => {
    await bothFail(serving((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('allow')));
    await bothFail(serving((_req, res) => res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end('{"hookSpecificOutput":{"permissionDecision":"allow"')));
  });

  test('no daemon (the socket path is absent): ask, or nothing', async () => {
    assert.equal(existsSync(socket), false);
    await bothFail((run) => run('PreToolUse', PAYLOAD));
  });

  test('connection refused (a stale file at the socket path): ask, or nothing', async () => {
    writeFileSync(socket, '');
    try {
      await bothFail((run) => run('PreToolUse', PAYLOAD));
    } finally {
      rmSync(socket);
    }
  });

  test('a daemon that never answers: the timeout ends it with an ask, or nothing', async () => {
    for (const run of await bothFail(serving(() => undefined))) assert.ok(run.ms < 5_000, `took ${run.ms} ms`);
  });

  test('an empty 200 answer: ask, or nothing', async () => {
    await bothFail(serving((_req, res) => res.writeHead(200, { 'content-length': '0' }).end()));
  });

  test('the settings call the forwarder with its event and timeout; only PermissionRequest waits for a person', async () => {
    const long = await writeSessionFiles({ dir: path.join(dir, 'long'), sessionId: SESSION, daemonSocket: socket, timeoutS: 30 });
    const settings = JSON.parse(readFileSync(long.settingsPath, 'utf8')) as { hooks: Record<string, { hooks: { command: string; timeout: number }[] }[]> };
    const hookOf = (event: string) => settings.hooks[event]?.[0]?.hooks[0];
    assert.deepEqual(hookOf('PreToolUse'), { type: 'command', command: `exec '${long.forwarderPath}' PreToolUse 30`, timeout: 35 });
    assert.deepEqual(hookOf('PermissionRequest'), { type: 'command', command: `exec '${long.forwarderPath}' PermissionRequest ${PERSON_WAIT_S}`, timeout: PERSON_WAIT_S + 5 });
    assert.equal(hookOf('Stop')?.command, `exec '${long.forwarderPath}' Stop 30`);
  });

  test('a PermissionRequest ended by Claude (SIGTERM to the command its settings run): the daemon sees the request go', async () => {
    const settings = JSON.parse(readFileSync(files.settingsPath, 'utf8')) as { hooks: Record<string, { hooks: { command: string }[] }[]> };
    const command = settings.hooks.PermissionRequest?.[0]?.hooks[0]?.command ?? '';
    let hook: ReturnType<typeof spawn> | undefined;
    let requestClosed: Promise<void> | undefined;
    await withUnixServer(
      socket,
      (_req, res) => {
        requestClosed = new Promise((resolve) => res.on('close', resolve));
        hook?.kill('SIGTERM');
      },
      async () => {
        hook = spawn('sh', ['-c', command], { stdio: ['pipe', 'ignore', 'ignore'] });
        hook.stdin?.end(PAYLOAD.replace('PreToolUse', 'PermissionRequest'));
        await new Promise((resolve) => hook?.on('close', resolve));
        // While the stand-in daemon still listens: the request went with the hook, no curl was left waiting.
        if (requestClosed) await raceTimeout(requestClosed, 5_000);
        assert.deepEqual(commandLinesHolding(files.curlConfigPath), []);
      },
    );
  });

  test('a tool call the daemon did not answer is kept for it, once, with whether it ran; an answered one is not', async () => {
    const sessionDir = path.dirname(files.forwarderPath);
    await takeOfflineToolCalls(sessionDir);
    const call = (event: string, id: string, command: string) => JSON.stringify({ session_id: SESSION, hook_event_name: event, tool_name: 'Bash', tool_input: { command }, tool_use_id: id });
    await runForwarder(files.forwarderPath, 'PreToolUse', call('PreToolUse', 'u1', 'make'));
    await runForwarder(files.forwarderPath, 'PostToolUse', call('PostToolUse', 'u1', 'make'));
    await runForwarder(files.forwarderPath, 'PreToolUse', call('PreToolUse', 'u2', 'rm -rf build'));
    let kept: unknown;
    const answer: UnixServerHandler = (req, res) => {
      kept = req.headers[OFFLINE_KEPT_HEADER];
      res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
    };
    await serve(answer);
    assert.equal(kept, 'yes', 'the daemon reached again is told that events wait for it');
    assert.equal(statSync(path.join(sessionDir, 'offline.jsonl')).mode & 0o777, 0o600);
    assert.deepEqual(await takeOfflineToolCalls(sessionDir), [
      { toolName: 'Bash', toolInput: { command: 'make' }, ran: true },
      { toolName: 'Bash', toolInput: { command: 'rm -rf build' }, ran: false },
    ]);
    assert.deepEqual(await takeOfflineToolCalls(sessionDir), [], 'taken once');
    await serve(answer);
    assert.equal(kept, 'no');
  });
});
