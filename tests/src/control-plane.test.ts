import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { daemonEndpoints } from '@codepiper/sdk';
import { policyEndpoints } from '@codepiper/policies-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { cliPath, suiteDaemon, waitFor, type CliResult } from './harness.js';

/** The refusal, as the CLI prints it (the screen wraps it: compared without whitespace). */
const REFUSED = 'policy changes, approvals, secrets and auth are refused to programs running inside a CodePiper session';
const WHAT_TO_DO = 'run the command from a terminal outside CodePiper sessions';
const ALLOW_ALL = ['policy', 'create', '--action', 'allow', '--tool', '*'];

const shQuote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;
const squeeze = (text: string): string => text.replace(/\s+/g, '');

describe('control-plane requests from inside sessions are refused (real daemon, tmux and CLI)', () => {
  const suite = suiteDaemon();
  let shell: SessionRecord;
  let typed = 0;

  /** `codepiper ARGS` as a shell command line, aimed at the daemon the way a program that knows its home would. */
  const cliLine = (args: string[]): string => [`CODEPIPER_HOME=${shQuote(suite.daemon.home)}`, process.execPath, cliPath, ...args].map((w, i) => (i === 0 ? w : shQuote(w))).join(' ');

  const startShell = async (name: string, ...options: string[]): Promise<SessionRecord> => {
    const result = await suite.daemon.cli(['start', '-p', 'shell', '-d', suite.workdir, '-n', name, '--json', ...options, '--', 'sh']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as SessionRecord;
  };

  /** Types a command line into a session's shell on a cleared screen; resolves with its exit status and the screen it left. */
  const inSession = async (session: SessionRecord, line: string, timeoutMs = 20_000): Promise<{ code: number; screen: string }> => {
    const n = ++typed;
    await suite.daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: `printf '\\033[H\\033[2J'; ${line}; echo DONE-${n}-$?` } });
    const done = new RegExp(`^DONE-${n}-(\\d+)$`, 'm');
    return waitFor(
      `command ${n} to finish in ${session.name}`,
      async () => {
        const { text } = await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } });
        const match = done.exec(text);
        return match ? { code: Number(match[1]), screen: text.slice(0, match.index) } : undefined;
      },
      timeoutMs,
    );
  };

  const assertRefused = (result: { code: number; screen: string }, session: SessionRecord, route: string): void => {
    assert.notEqual(result.code, 0, result.screen);
    const screen = squeeze(result.screen);
    for (const part of [`${route} refused`, REFUSED, `runs in session ${session.name}, id ${session.id}`, WHAT_TO_DO]) {
      assert.ok(screen.includes(squeeze(part)), `the screen shows "${part}":\n${result.screen}`);
    }
  };

  /** The policies a client created (built-in ones left aside). */
  const policies = async (): Promise<unknown[]> => {
    const listed = await suite.daemon.cli(['policy', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    return (JSON.parse(listed.stdout) as { policies: { builtin?: boolean }[] }).policies.filter((p) => p.builtin !== true);
  };

  before(async () => {
    shell = await startShell('web-shell');
  });

  test('`policy create --action allow --tool *` typed in a shell session is refused and stores nothing; from outside it works', async () => {
    assertRefused(await inSession(shell, cliLine(ALLOW_ALL)), shell, 'POST /policies');
    assert.deepEqual(await policies(), [], 'nothing was stored');

    const outside = await suite.daemon.cli([...ALLOW_ALL, '--json']);
    assert.equal(outside.code, 0, outside.stderr);
    const created = JSON.parse(outside.stdout) as { id: string };
    assert.equal((await policies()).length, 1);
    assert.equal((await suite.daemon.cli(['policy', 'delete', created.id])).code, 0);
  });

  test('secret set and list, approve (before the id is even looked up) and auth status are refused inside, served outside', async () => {
    assertRefused(await inSession(shell, `printf value | ${cliLine(['secret', 'set', 'FROM_INSIDE'])}`), shell, 'PUT /secrets/:name');
    assertRefused(await inSession(shell, cliLine(['secret', 'list'])), shell, 'GET /secrets');
    const missing = 'ffffffff-0000-4000-8000-000000000000';
    assertRefused(await inSession(shell, cliLine(['approve', missing])), shell, 'POST /approvals/:id/approve');
    assertRefused(await inSession(shell, cliLine(['auth', 'status'])), shell, 'GET /auth/status');

    const secrets = await suite.daemon.cli(['secret', 'list', '--json']);
    assert.equal(secrets.code, 0, secrets.stderr);
    assert.doesNotMatch(secrets.stdout, /FROM_INSIDE/, 'the refused secret was not stored');
    const approve: CliResult = await suite.daemon.cli(['approve', missing]);
    assert.notEqual(approve.code, 0);
    assert.doesNotMatch(approve.stderr, /refused/, 'outside, the approval is looked up (and not found)');
    assert.equal((await suite.daemon.cli(['auth', 'status'])).code, 0);
  });

  test('a session cannot free itself: `policy bypass` of its own id, `policy default`, env sets, workspaces and `start --dangerous` typed inside are refused', async () => {
    assertRefused(await inSession(shell, cliLine(['policy', 'bypass', shell.id])), shell, 'PUT /sessions/:id/policy-bypass');
    assertRefused(await inSession(shell, cliLine(['policy', 'default', 'ask'])), shell, 'PUT /policies/default');
    // Nor can it change what the sessions it starts would get: their environment, directory and defaults.
    assertRefused(await inSession(shell, cliLine(['env-set', 'set', 'evil', 'PATH=/tmp/evil'])), shell, 'PUT /env-sets/:name');
    assertRefused(await inSession(shell, cliLine(['workspace', 'add', 'evil', '/tmp'])), shell, 'POST /workspaces');
    assertRefused(await inSession(shell, cliLine(['host', 'add', 'evil', 'me@example.com'])), shell, 'POST /hosts');
    // A start is a control request when it says what governs the new session: without policies, or under sets of its choosing.
    const before = (await suite.daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.length;
    assertRefused(await inSession(shell, cliLine(['start', '-p', 'shell', '-d', suite.workdir, '-n', 'escape', '--dangerous', '--', 'sh'])), shell, 'POST /sessions');
    assertRefused(await inSession(shell, cliLine(['start', '-p', 'shell', '-d', suite.workdir, '-n', 'escape', '--policy-set', 'lax', '--', 'sh'])), shell, 'POST /sessions');
    assert.deepEqual((await suite.daemon.client.call(policyEndpoints.bypassed)).bypasses, [], 'nothing runs without policies');
    assert.equal((await suite.daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.length, before, 'no session was started');
    // A start that says nothing of the kind is not one: a session may start another, under the policies.
    const plain = await inSession(shell, cliLine(['start', '-p', 'shell', '-d', suite.workdir, '-n', 'plain-child', '--', 'true']));
    assert.equal(plain.code, 0, plain.screen);
    assert.ok((await suite.daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.some((s) => s.name === 'plain-child'));
  });

  test('`daemon restart` typed in a session is refused: the daemon that serves every client goes on', async () => {
    const { pid } = await suite.daemon.client.call(daemonEndpoints.status);
    assertRefused(await inSession(shell, cliLine(['daemon', 'restart'])), shell, 'POST /daemon/restart');
    assert.equal((await suite.daemon.client.call(daemonEndpoints.status)).pid, pid);
  });

  test('a program that double-forks out of the session (setsid) keeps CODEPIPER_SESSION and is refused', async () => {
    const out = path.join(suite.workdir, 'forked.out');
    const code = path.join(suite.workdir, 'forked.code');
    const detached = `${cliLine(ALLOW_ALL)} > ${shQuote(out)} 2>&1; echo $? > ${shQuote(code)}`;
    const started = await inSession(shell, `setsid sh -c ${shQuote(detached)} & true`);
    assert.equal(started.code, 0, started.screen);
    const status = await waitFor('the detached command to finish', async () => (await readFile(code, 'utf8').catch(() => '')).trim() || undefined, 20_000);
    const output = await readFile(out, 'utf8');
    assert.notEqual(status, '0', output);
    // Not found through its parents (it left the tree): through the marker in its environment.
    assert.ok(squeeze(output).includes(squeeze(`was started in session ${shell.name}, id ${shell.id}: its environment has CODEPIPER_SESSION`)), output);
    assert.ok(squeeze(output).includes(squeeze(REFUSED)), output);
    assert.deepEqual(await policies(), []);
  });

  test('a session gets CODEPIPER_SESSION (its id) and nothing of the daemon: no CODEPIPER_HOME', async () => {
    assert.ok(suite.daemon.env.CODEPIPER_HOME, 'the daemon runs with CODEPIPER_HOME set');
    const home = await inSession(shell, 'printenv CODEPIPER_HOME');
    assert.deepEqual([home.code, home.screen.trim()], [1, '']);
    const marker = await inSession(shell, 'printenv CODEPIPER_SESSION');
    assert.deepEqual([marker.code, marker.screen.trim()], [0, shell.id]);
    const daemonVars = await inSession(shell, 'env | grep ^CODEPIPER_ | cut -d= -f1');
    assert.deepEqual(daemonVars.screen.trim().split('\n'), ['CODEPIPER_SESSION']);
  });

  test('--env and --secret values reach the program but do not stay in the tmux session environment', async () => {
    const set = await suite.daemon.cli(['secret', 'set', 'SESSION_SECRET'], { input: 'sekrit-4711' });
    assert.equal(set.code, 0, set.stderr);
    const session = await startShell('env-shell', '--env', 'TOKEN=abc123', '--secret', 'SESSION_SECRET');

    const tmuxEnv = suite.daemon.tmux(['show-environment', '-t', `=cp-${session.id}`]);
    assert.equal(tmuxEnv.code, 0, tmuxEnv.stderr);
    assert.doesNotMatch(tmuxEnv.stdout, /abc123|sekrit-4711|TOKEN|SESSION_SECRET/);
    assert.match(tmuxEnv.stdout, new RegExp(`^CODEPIPER_SESSION=${session.id}$`, 'm'), 'the marker stays: every pane of the session gets it');
    assert.doesNotMatch(suite.daemon.tmux(['show-environment', '-g']).stdout, /CODEPIPER_HOME|sekrit-4711|abc123/);

    const seen = await inSession(session, 'printenv TOKEN SESSION_SECRET');
    assert.deepEqual([seen.code, seen.screen.trim().split('\n')], [0, ['abc123', 'sekrit-4711']]);
    await suite.daemon.cli(['kill', session.id]);
  });
});
