import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authEndpoints, type AccessToken } from '@codepiper/auth-contract';
import { databasePath } from '@codepiper/sdk';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { cliPath, runCli, waitFor, type TestDaemon } from './harness.js';
import { askingProgram, assertAnsweredOnce } from './terminal-questions.js';
import { setUpAccount, startWebDaemon, totp, WebClient, type Account } from './web-client.js';

/**
 * The CLI of another machine: its own config and no daemon of its own,
 * driving a daemon through its TCP listener with an access token.
 */
describe('the CLI from another machine: access tokens, remote add, --remote, attach over the terminal stream', () => {
  let daemon: TestDaemon;
  let url: string;
  let account: Account;
  let laptop: string;
  let outerSocket: string;

  const laptopEnv = (): NodeJS.ProcessEnv => ({ ...process.env, HOME: laptop, XDG_CONFIG_HOME: path.join(laptop, 'config'), CODEPIPER_HOME: path.join(laptop, 'no-daemon-here') });
  const onLaptop = (args: string[], input?: string) => runCli(args, { env: laptopEnv(), ...(input !== undefined && { input }) });
  const tokenFor = async (name: string, ...flags: string[]): Promise<AccessToken & { token: string }> => {
    const made = await daemon.cli(['auth', 'token', 'create', name, ...flags, '--json']);
    assert.equal(made.code, 0, made.stderr);
    return JSON.parse(made.stdout) as AccessToken & { token: string };
  };

  /** The laptop's own tmux, whose sessions are the user's terminals there. */
  const outer = (...args: string[]) => spawnSync('tmux', ['-f', '/dev/null', '-S', outerSocket, ...args], { encoding: 'utf8', env: laptopEnv() });
  /** A terminal on the laptop, running the CLI with `args`. */
  const laptopTerminal = (name: string, ...args: string[]): void => {
    const made = outer('new-session', '-d', '-s', name, '-x', '100', '-y', '30', process.execPath, cliPath, ...args);
    assert.equal(made.status, 0, `the laptop's terminal ${name}: ${made.stderr}`);
  };

  before(async () => {
    ({ daemon, url } = await startWebDaemon(''));
    account = await setUpAccount(new WebClient(url), daemon.output);
    laptop = mkdtempSync('/tmp/cpt-laptop-');
    outerSocket = path.join(laptop, 'outer.sock');
    // Kept running from test to test: a tmux server exits with its last session, and drops a client that reached it as it did.
    const kept = outer('new-session', '-d', '-s', 'keep', 'sleep', '86400');
    assert.equal(kept.status, 0, kept.stderr);
  });
  after(async () => {
    spawnSync('tmux', ['-S', outerSocket, 'kill-server']);
    await daemon?.dispose();
    if (laptop) rmSync(laptop, { recursive: true, force: true });
  });

  test('a token made on the daemon’s machine signs the other CLI in; its commands go there with --remote; the token is kept encrypted, 0600', async () => {
    const { token, id } = await tokenFor('laptop', '--expires', '30');
    assert.match(token, /^cpat_[A-Za-z0-9_-]{43}$/);
    const added = await onLaptop(['remote', 'add', 'devbox', url, '--token-stdin'], `${token}\n`);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`^added remote devbox \\(${url.replace(/[.]/g, '\\.')}, CodePiper \\S+\\): use it with --remote devbox`));

    const here = await onLaptop(['ls']);
    assert.notEqual(here.code, 0, 'without --remote: the laptop’s own daemon, which does not run');
    const started = await onLaptop(['--remote', 'devbox', 'start', '-p', 'shell', '-d', '/tmp', '-n', 'from-laptop', '--json', '--', 'cat']);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    assert.equal((await onLaptop(['--remote', 'devbox', 'send', 'from-laptop', 'typed far away'])).code, 0);
    await waitFor('the text on the daemon', async () => (await daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text.includes('typed far away'));
    const listed = await onLaptop(['ls', '--remote=devbox']);
    assert.match(listed.stdout, /from-laptop/);

    const files = path.join(laptop, 'config', 'codepiper');
    assert.ok(!readFileSync(path.join(files, 'remotes.json'), 'utf8').includes(token.slice(5)), 'the token is not stored in clear');
    for (const file of ['remotes.json', 'remotes.key']) assert.equal(statSync(path.join(files, file)).mode & 0o777, 0o600, file);
    const used = (await daemon.client.call(authEndpoints.tokens)).tokens.find((t) => t.id === id);
    assert.ok(used?.lastUsedAt, 'its use is recorded');
  });

  test('remote use makes it the default; attach works there through the terminal stream, with no tmux client of the daemon’s', async () => {
    assert.equal((await onLaptop(['remote', 'use', 'devbox'])).code, 0);
    const { sessions } = JSON.parse((await onLaptop(['ls', '--json'])).stdout) as { sessions: SessionRecord[] };
    const session = sessions.find((s) => s.name === 'from-laptop')!;
    laptopTerminal('laptop', 'attach', 'from-laptop');
    const screen = () => outer('capture-pane', '-p', '-t', 'laptop').stdout;
    await waitFor('the remote session on the laptop’s terminal', () => screen().includes('typed far away'));
    outer('send-keys', '-t', 'laptop', '-l', 'typed in the attached terminal');
    outer('send-keys', '-t', 'laptop', 'Enter');
    await waitFor('the keys to reach the session', async () => (await daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text.split('typed in the attached terminal').length === 3);
    outer('send-keys', '-t', 'laptop', 'C-]');
    await waitFor('the client to detach', () => outer('has-session', '-t', 'laptop').status !== 0);
    assert.equal((await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status, 'running', 'detaching leaves it running');
    assert.equal((await onLaptop(['remote', 'use', 'local'])).code, 0);
  });

  test('attached, what a program asks of its terminal is answered by the daemon’s tmux alone: the laptop’s terminal adds nothing to what it reads', async () => {
    const asker = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', name: 'asker', args: askingProgram('cat -v') } });
    laptopTerminal('asking', '--remote', 'devbox', 'attach', 'asker');
    const screen = async () => (await daemon.client.call(sessionEndpoints.screen, { params: { id: asker.id } })).text;
    await waitFor('the session on the laptop', () => outer('capture-pane', '-p', '-t', 'asking').stdout.includes('waiting'));
    outer('send-keys', '-t', 'asking', 'Enter');
    await waitFor('the questions asked, and shown on the laptop', () => outer('capture-pane', '-p', '-t', 'asking').stdout.includes('asked'));
    outer('send-keys', '-t', 'asking', '-l', 'END');
    outer('send-keys', '-t', 'asking', 'Enter');
    const read = await waitFor('what the program read', async () => (await screen()).split('\n').find((line) => line.endsWith('END')));
    assertAnsweredOnce(read);
    outer('send-keys', '-t', 'asking', 'C-]');
    await daemon.client.call(sessionEndpoints.kill, { params: { id: asker.id } });
  });

  test('tail -f on a terminal leaves out the questions the program asked of its own: nothing answers into the user’s shell', async () => {
    // Its own terminal does not echo tmux's answers: what shows of them came from the laptop's.
    const asker = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', name: 'tail-asker', args: askingProgram('sleep 60') } });
    laptopTerminal('tailing', '--remote', 'devbox', 'tail', '-f', 'tail-asker');
    const shown = () => outer('capture-pane', '-p', '-t', 'tailing').stdout;
    await waitFor('the program followed on the laptop', () => shown().includes('waiting'));
    assert.equal((await daemon.cli(['keys', asker.id, 'Enter'])).code, 0);
    await waitFor('the questions on their way to the laptop', () => shown().includes('asked'));
    // Typed after the output: its echo comes after that of any answer the laptop's terminal gave.
    outer('send-keys', '-t', 'tailing', '-l', 'typed');
    await waitFor('the typing echoed', () => shown().includes('typed'));
    assert.doesNotMatch(shown(), /\^\[/, 'no answer typed into the terminal');
    outer('kill-session', '-t', 'tailing');
    await daemon.client.call(sessionEndpoints.kill, { params: { id: asker.id } });
  });

  test('a read token reads and changes nothing; a revoked one stops at once; a wrong one is refused and not kept', async () => {
    const reader = await tokenFor('dashboard-script', '--scope', 'read');
    assert.equal((await onLaptop(['remote', 'add', 'reader', url, '--token-stdin'], reader.token)).code, 0);
    assert.equal((await onLaptop(['--remote', 'reader', 'ls'])).code, 0);
    const write = await onLaptop(['--remote', 'reader', 'send', 'from-laptop', 'not allowed']);
    assert.equal(write.code, 1);
    assert.match(write.stderr, /may only read \(scope read\): POST \/sessions\/:id\/input needs a token of scope full/);

    assert.equal((await daemon.cli(['auth', 'token', 'revoke', 'dashboard-script'])).code, 0);
    const revoked = await onLaptop(['--remote', 'reader', 'ls']);
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /the access token is unknown, revoked or expired/);

    const wrong = await onLaptop(['remote', 'add', 'nope', url, '--token-stdin'], 'cpat_not-a-token-of-that-daemon');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the token: the access token is unknown, revoked or expired/);
    assert.doesNotMatch((await onLaptop(['remote', 'list'])).stdout, /nope/);
    const unknown = await onLaptop(['--remote', 'nope', 'ls']);
    assert.deepEqual([unknown.code, unknown.stderr], [1, 'codepiper: no remote named "nope" (see: codepiper remote list)\n']);
  });

  test('an expired token is refused, and listed as expired until revoked', async () => {
    const aging = await tokenFor('aging-script', '--expires', '30');
    assert.equal((await onLaptop(['remote', 'add', 'aging', url, '--token-stdin'], aging.token)).code, 0);
    assert.equal((await onLaptop(['--remote', 'aging', 'ls'])).code, 0);
    const past = new Date(Date.now() - 1000).toISOString();
    const aged = spawnSync('sqlite3', [databasePath(daemon.home), `UPDATE auth_tokens SET expires_at = '${past}' WHERE id = '${aging.id}'`], { encoding: 'utf8' });
    assert.equal(aged.status, 0, aged.stderr);

    const refused = await onLaptop(['--remote', 'aging', 'ls']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the access token is unknown, revoked or expired/);
    const listed = await daemon.cli(['auth', 'token', 'list']);
    assert.match(listed.stdout, new RegExp(`${aging.id.slice(0, 8)}\\s+aging-script\\s+full\\s+\\S+\\s+expired ${past}`));
    assert.equal((await daemon.cli(['auth', 'token', 'revoke', 'aging-script'])).code, 0);
  });

  test('signing in once with the password and a TOTP code leaves a token, not a web session', async () => {
    const before = (await daemon.client.call(authEndpoints.tokens)).tokens.length;
    const webSessions = async () => (await daemon.client.call(authEndpoints.sessions)).sessions.length;
    const signedIn = await webSessions();
    const added = await onLaptop(['remote', 'add', 'signed-in', url], `${account.password}\n${totp(account.totpSecret, 1)}\n`);
    assert.equal(added.code, 0, added.stderr);
    const { tokens } = await daemon.client.call(authEndpoints.tokens);
    assert.equal(tokens.length, before + 1);
    assert.match(tokens.at(-1)!.name, /^codepiper CLI on /);
    assert.equal(await webSessions(), signedIn, 'the sign-in’s web session was ended');
    assert.equal((await onLaptop(['--remote', 'signed-in', 'ls'])).code, 0);
    const wrong = await onLaptop(['remote', 'add', 'guess', url], 'not the password at all\n123456\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /sign-in refused/);
  });
});
