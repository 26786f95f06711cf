import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '@codepiper/sdk';
import { eventEndpoints } from '@codepiper/events-contract';
import { hostEndpoints, type HostStatus } from '@codepiper/hosts-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { suiteDaemon, waitFor } from './harness.js';
import { REMOTE_USER, SshServer, sshdUnavailable } from './sshd.js';

/** The sessions of the private tmux server on the host, as its user sees them. */
function remoteTmuxSessions(): string {
  const listed = spawnSync('su', [REMOTE_USER, '-c', 'tmux -L codepiper list-sessions -F "#{session_name}"'], { encoding: 'utf8' });
  return listed.stdout;
}

describe('hosts: machines reached over SSH (a real sshd on loopback, as another user, with its own key)', { skip: sshdUnavailable() }, () => {
  const suite = suiteDaemon();
  let sshd: SshServer;
  const cli = (args: string[]) => suite.daemon.cli(args);
  const knownHosts = () => path.join(suite.daemon.userHome, '.ssh', 'known_hosts');
  const addArgs = (name: string) => ['host', 'add', name, sshd.destination, '--port', String(sshd.port), '--identity', sshd.identity];
  const logins = () => sshd.output.split('\n').filter((line) => line.startsWith('Accepted publickey for codepiper-remote')).length;
  const hosts = async () => (await suite.daemon.client.call(hostEndpoints.list, { query: {} })).hosts;
  const refusal = async (call: Promise<unknown>): Promise<ApiError> => {
    const error = await call.then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ApiError, `refused: ${String(error)}`);
    return error;
  };

  before(async () => {
    sshd = await SshServer.start();
  });
  after(async () => {
    await sshd?.stop();
  });

  test('a host whose key is not in known_hosts is refused and nothing is kept; once the key is known it is added, and reached over one connection', async () => {
    const unknown = await cli(addArgs('box'));
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, `codepiper: could not reach box: the host key of ${sshd.destination} port ${sshd.port} is not in ~/.ssh/known_hosts: connect once with ssh -p ${sshd.port} ${sshd.destination}, check the fingerprint it shows, and try again\n`);
    assert.deepEqual(await hosts(), [], 'nothing was kept');
    assert.equal(logins(), 0, 'no key of ours was offered to a host not verified');

    mkdirSync(path.dirname(knownHosts()), { recursive: true, mode: 0o700 });
    writeFileSync(knownHosts(), sshd.knownHostsLine);
    const added = await cli([...addArgs('box'), '--json']);
    assert.equal(added.code, 0, added.stderr);
    const host = JSON.parse(added.stdout) as HostStatus;
    assert.deepEqual([host.name, host.destination, host.port, host.identity], ['box', sshd.destination, sshd.port, sshd.identity]);
    assert.equal(host.probe.reachable, true);
    assert.match(host.probe.tmux ?? '', /^tmux \d/);
    assert.deepEqual(host.probe.agents, { claude: null, codex: null, gemini: null }, 'no agent CLI is on that user’s PATH');

    const table = await cli(['host', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^box +${sshd.destination}:${sshd.port} +yes +[\\d.]+ ms +tmux \\d\\S* +- +- +- *$`, 'm'));
    const [listed] = await hosts();
    assert.ok(listed!.probe?.reachable && listed!.probe.latencyMs! > 0);
    assert.equal(logins(), 1, `the add and both lists shared one connection:\n${sshd.output}`);
  });

  test('a host whose key differs from the one in known_hosts is refused, and says so', async () => {
    // Another machine answering at a known address: its key is not the recorded one.
    const impostor = await SshServer.start();
    try {
      writeFileSync(knownHosts(), impostor.knownHostsLine.replace(String(impostor.port), String(sshd.port)) + impostor.knownHostsLine);
      const changed = await cli(addArgs('box2'));
      assert.equal(changed.code, 1);
      assert.match(changed.stderr, /the host key of codepiper-remote@127\.0\.0\.1 port \d+ is not the one in known_hosts: someone may be intercepting the connection/);
      assert.ok(!(await hosts()).some((h) => h.name === 'box2'));
    } finally {
      writeFileSync(knownHosts(), sshd.knownHostsLine);
      await impostor.stop();
    }
  });

  test('bad input: a destination read as an ssh option, a bad name or port, an identity that is no file, a taken name, an unknown host', async () => {
    const marker = path.join(suite.workdir, 'pwned');
    const injected = await refusal(suite.daemon.client.call(hostEndpoints.add, { body: { name: 'evil', destination: `-oProxyCommand=touch ${marker}` } }));
    assert.deepEqual([injected.status, injected.code], [400, 'invalid_request']);
    assert.match(injected.message, /destination/);
    assert.ok(!existsSync(marker), 'nothing ran');
    const name = await refusal(suite.daemon.client.call(hostEndpoints.add, { body: { name: 'a b', destination: sshd.destination } }));
    assert.equal(name.status, 400);
    const port = await cli(['host', 'add', 'p', sshd.destination, '--port', '70000']);
    assert.deepEqual([port.code, port.stderr], [2, 'codepiper: --port takes a port number (1-65535), not "70000" (see: codepiper host --help)\n']);
    const identity = await cli(['host', 'add', 'i', sshd.destination, '--identity', path.join(suite.workdir, 'no-key')]);
    assert.equal(identity.code, 1);
    assert.match(identity.stderr, /identity ".*no-key" is not a file/);
    const taken = await refusal(suite.daemon.client.call(hostEndpoints.add, { body: { name: 'box', destination: sshd.destination, port: sshd.port } }));
    assert.deepEqual([taken.status, taken.code], [409, 'host_exists']);
    const missing = await cli(['host', 'rm', 'nope']);
    assert.deepEqual([missing.code, missing.stderr], [1, 'codepiper: host nope not found\n']);
    assert.deepEqual((await hosts()).map((h) => h.name), ['box']);
  });

  test('a session runs on the host, in a tmux server there: typed into, it outlives a lost connection and ends with its own exit code', async () => {
    const script = 'echo "on $(id -un) in $(pwd)"; read line; echo "got $line"; read code; exit "$code"';
    const started = await cli(['start', '--host', 'box', '-p', 'shell', '-d', '/tmp', '-n', 'far', '--json', '--', 'sh', '-c', script]);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    assert.deepEqual([session.cwd, session.metadata.host, session.command], ['/tmp', 'box', ['sh', '-c', script]]);
    const screen = async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text;
    await waitFor('the program on the host', async () => (await screen()).includes('on codepiper-remote in /tmp'));
    assert.match((await cli(['ls'])).stdout, /far +shell +running +\S+ +box:\/tmp/);

    // The network drops: every connection to the host is cut, the programs there go on.
    execFileSync('pkill', ['-KILL', '-f', `sshd: ${REMOTE_USER}`]);
    await waitFor('the pane to say it reconnects', async () => (await screen()).includes('the connection to the host was lost'));
    // Joined again, the host's tmux draws the program's screen over the notice.
    await waitFor('the session on the host again', async () => {
      const text = await screen();
      if (!text.includes('on codepiper-remote in /tmp') || text.includes('was lost')) throw new Error(`the screen shows:\n${text}`);
      return true;
    }, 30_000);
    await waitFor('the session marked unreachable, then running again', async () => {
      const { events } = await suite.daemon.client.call(eventEndpoints.list, { query: { session: session.id, type: 'session.status' } });
      const to = events.map((event) => (event.payload as { to: string }).to);
      return to.includes('unreachable') && to.at(-1) === 'running';
    }, 30_000);
    assert.equal((await cli(['send', 'far', 'after the drop'])).code, 0);
    await waitFor('the program to read it', async () => (await screen()).includes('got after the drop'));
    assert.equal((await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status, 'running');

    assert.equal((await cli(['send', 'far', '3'])).code, 0);
    const ended = await waitFor('the session to end', async () => {
      const s = await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
      return s.status === 'exited' && s;
    }, 20_000);
    assert.equal(ended.exitCode, 3, 'the program’s own exit code, from the host');
    await waitFor('its tmux session on the host to be gone', () => !remoteTmuxSessions().includes(`cp-${session.id}`));
  });

  test('the host goes away (sshd stopped, its connections cut) and comes back: its session is unreachable meanwhile, then joined again', async () => {
    const started = await cli(['start', '--host', 'box', '-p', 'shell', '-d', '/tmp', '-n', 'far-down', '--json', '--', 'sh', '-c', 'echo ready; cat']);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    const show = () => suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
    const screen = async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text;
    await waitFor('the program on the host', async () => (await screen()).includes('ready'));

    await sshd.down();
    const away = await waitFor('the session to be unreachable', async () => {
      const s = await show();
      return s.status === 'unreachable' && s;
    }, 20_000);
    assert.match(away.statusDetail ?? '', /the connection to box is lost; trying again/);
    await waitFor('the pane to say so', async () => (await screen()).includes('was lost'));
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // a try or two refused while it is away

    await sshd.listen();
    await waitFor('the session running again', async () => (await show()).status === 'running', 60_000);
    await waitFor('the program on the pane again', async () => {
      const text = await screen();
      return text.includes('ready') && !text.includes('was lost');
    }, 60_000);
    assert.equal((await cli(['send', 'far-down', 'back again'])).code, 0);
    await waitFor('its echo', async () => (await screen()).split('back again').length === 3);
    assert.equal((await cli(['kill', 'far-down'])).code, 0);
  });

  test('a daemon stopped while its host is away stops at once, and opens no connection after it stopped', async () => {
    const started = await cli(['start', '--host', 'box', '-p', 'shell', '-d', '/tmp', '-n', 'far-stopped', '--json', '--', 'cat']);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    await waitFor('its tmux session on the host', () => remoteTmuxSessions().includes(`cp-${session.id}`), 20_000);
    await sshd.down();
    await waitFor('the session to be unreachable', async () => (await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status === 'unreachable', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // tries refused; the next one waits its turn
    const masters = () => spawnSync('pgrep', ['-f', `ControlMaster=yes -o ControlPath=${suite.daemon.home}`], { encoding: 'utf8' }).stdout;
    const back = () => suite.daemon.logLines('the connection to a host is back').length;
    const backBefore = back();
    const outputBefore = suite.daemon.output.length;
    await suite.daemon.stop();
    // The host returns just after: a try still waiting its turn would find it.
    await sshd.listen();
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    assert.doesNotMatch(suite.daemon.output.slice(outputBefore), /held open by/, 'nothing the hosts plugin started kept the stopped daemon running');
    assert.equal(back(), backBefore, 'no connection was opened once the daemon stopped');
    assert.equal(masters(), '', 'no ssh master of this home runs');
    await suite.daemon.start();
    await waitFor('the session running again', async () => (await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status === 'running', 60_000);
    assert.equal((await cli(['kill', 'far-stopped'])).code, 0);
  });

  test('what a user types reaches the program on the host word for word: no shell there reads quotes, $(), backquotes or newlines in it', async () => {
    const marker = '/tmp/codepiper-remote-pwned';
    rmSync(marker, { force: true });
    const words = [`'; touch ${marker}; '`, `$(touch ${marker})`, `\`touch ${marker}\``, `a"b\\c`, 'two\nlines', '*', '--'];
    const started = await suite.daemon.client.call(sessionEndpoints.start, {
      body: { provider: 'shell', host: 'box', cwd: '/tmp', name: 'far-quoted', env: { TRICKY: `it's "$(touch ${marker})"` }, args: ['sh', '-c', 'for w in "$@"; do printf "<%s>\\n" "$w"; done; printf "env<%s>\\n" "$TRICKY"; sleep 30', 'sh', ...words] },
    });
    const expected = [...words.map((w) => `<${w}>`), `env<it's "$(touch ${marker})">`];
    await waitFor('the words printed on the host', async () => {
      const text = (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: started.id } })).text;
      return expected.every((line) => text.includes(line.split('\n')[0]!));
    });
    assert.ok(!existsSync(marker), 'nothing the user wrote was run by a shell');
    await suite.daemon.client.call(sessionEndpoints.kill, { params: { id: started.id } });
  });

  test('a named secret reaches the program on the host through no command line, and leaves no file there', async () => {
    const value = `s3cr3t 'quoted' $(not run) \\n`;
    assert.equal((await suite.daemon.cli(['secret', 'set', 'FAR_TOKEN'], { input: value })).code, 0);
    const script = 'printf "token=[%s]\\n" "$FAR_TOKEN"; ls -A "$HOME/.codepiper/env"; echo listed; sleep 60';
    const started = await cli(['start', '--host', 'box', '-p', 'shell', '-d', '/tmp', '-n', 'far-secret', '--secret', 'FAR_TOKEN', '--json', '--', 'sh', '-c', script]);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    const text = await waitFor('the program to print', async () => {
      const screen = (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text;
      return screen.includes('listed') && screen;
    }, 20_000);
    assert.ok(text.includes(`token=[${value}]`), text);
    assert.match(text, /\]\nlisted/, 'the secrets’ file was removed before the program ran');
    const commandLines = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
    assert.ok(!commandLines.includes('s3cr3t'), 'no process here or on the host has the secret in its command line');
    assert.equal((await cli(['kill', 'far-secret'])).code, 0);
  });

  test('a daemon that dies and starts again adopts a session on the host, as it does one of its own', async () => {
    const started = await cli(['start', '--host', 'box', '-p', 'shell', '-d', '/tmp', '-n', 'far-adopted', '--json', '--', 'cat']);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    await waitFor('its tmux session on the host', () => remoteTmuxSessions().includes(`cp-${session.id}`), 20_000);
    await suite.daemon.crash();
    await suite.daemon.start();
    assert.equal((await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status, 'running');
    const screen = async () => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text;
    assert.equal((await cli(['send', 'far-adopted', 'still there'])).code, 0);
    await waitFor('the echo from the host', async () => (await screen()).split('still there').length === 3);
    // Stopped as a user stops it, the daemon lets the host's connection go without cutting the session's pane:
    // the one login after it is the new daemon's connection, not the pane's joining again.
    const before = logins();
    await suite.daemon.stop();
    await suite.daemon.start();
    assert.equal((await cli(['send', 'far-adopted', 'after a restart'])).code, 0);
    await waitFor('the echo after a restart', async () => (await screen()).split('after a restart').length === 3);
    await waitFor('the new daemon’s connection', () => logins() > before);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(logins(), before + 1, `the pane kept its connection:\n${sshd.output}`);
    assert.equal((await cli(['kill', 'far-adopted'])).code, 0);
  });

  test('a session on the host that is killed here ends there too; starts that cannot be are refused clearly', async () => {
    const started = await cli(['start', '--host', 'box', '-p', 'shell', '-d', '/tmp', '-n', 'far-killed', '--json', '--', 'sleep', '600']);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    await waitFor('its tmux session on the host', () => remoteTmuxSessions().includes(`cp-${session.id}`), 20_000);
    const inUse = await cli(['host', 'rm', 'box']);
    assert.deepEqual([inUse.code, inUse.stderr], [1, 'codepiper: 1 session(s) still run on box (far-killed): stop them first\n']);
    assert.equal((await cli(['kill', 'far-killed'])).code, 0);
    await waitFor('its tmux session on the host to be gone', () => !remoteTmuxSessions().includes(`cp-${session.id}`), 20_000);

    const unknown = await cli(['start', '--host', 'nowhere', '-p', 'shell', '-d', '/tmp', '--', 'true']);
    assert.deepEqual([unknown.code, unknown.stderr], [1, 'codepiper: host nowhere not found\n']);
    const relative = await cli(['start', '--host', 'box', '-p', 'shell', '-d', 'src', '--', 'true']);
    assert.deepEqual([relative.code, relative.stderr], [2, 'codepiper: a session on box needs -d with an absolute path on that machine (see: codepiper start --help)\n']);
    const worktree = await refusal(suite.daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', host: 'box', worktree: true } }));
    assert.match(worktree.message, /worktrees are made on this machine only, not on box/);
  });

  test('host rm forgets the host and closes its connection', async () => {
    const socket = path.join(suite.daemon.home, 'plugins', 'hosts', 'box');
    assert.ok(existsSync(socket), 'the connection is up');
    const removed = await cli(['host', 'rm', 'box']);
    assert.deepEqual([removed.code, removed.stdout], [0, 'removed host box\n']);
    assert.ok(!existsSync(socket), 'its connection is closed');
    assert.equal((await cli(['host', 'list'])).stdout, 'no hosts (add one: codepiper host add NAME user@host)\n');
  });
});
