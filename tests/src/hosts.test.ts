import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError, hostEndpoints, type HostStatus } from '@codepiper/sdk';
import { suiteDaemon } from './harness.js';
import { SshServer, sshdUnavailable } from './sshd.js';

describe('hosts: machines reached over SSH (a real sshd on loopback, as another user, with its own key)', { skip: sshdUnavailable() }, () => {
  const suite = suiteDaemon();
  let sshd: SshServer;
  const cli = (args: string[]) => suite.daemon.cli(args);
  const knownHosts = () => path.join(suite.daemon.userHome, '.ssh', 'known_hosts');
  const addArgs = (name: string) => ['host', 'add', name, sshd.destination, '--port', String(sshd.port), '--identity', sshd.identity];
  const logins = () => sshd.output.split('\n').filter((line) => line.startsWith('Accepted publickey for codepiper-remote')).length;
  const hosts = async () => (await suite.daemon.client.call(hostEndpoints.list)).hosts;
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
    assert.ok(listed!.probe.reachable && listed!.probe.latencyMs! > 0);
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

  test('host rm forgets the host and closes its connection', async () => {
    const socket = path.join(suite.daemon.home, 'plugins', 'hosts', 'box');
    assert.ok(existsSync(socket), 'the connection is up');
    const removed = await cli(['host', 'rm', 'box']);
    assert.deepEqual([removed.code, removed.stdout], [0, 'removed host box\n']);
    assert.ok(!existsSync(socket), 'its connection is closed');
    assert.equal((await cli(['host', 'list'])).stdout, 'no hosts (add one: codepiper host add NAME user@host)\n');
  });
});
