/**
 * A host whose network goes silent: sshd in a network namespace of its own,
 * its only link pulled mid-session (no reset, nobody told), then put back.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventEndpoints } from '@codepiper/events-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { suiteDaemon, waitFor } from './harness.js';
import { NetworkNamespace, netnsUnavailable } from './netns.js';
import { SshServer, sshdUnavailable } from './sshd.js';

/** Its own user: the other SSH test files cut their users' connections while this one runs beside them. */
const USER = 'codepiper-netns';

describe('hosts: a host whose network goes silent (sshd in its own network namespace, its link cut)', { skip: sshdUnavailable() ?? netnsUnavailable() }, () => {
  const suite = suiteDaemon();
  let netns: NetworkNamespace;
  let sshd: SshServer;

  before(async () => {
    netns = NetworkNamespace.create();
    sshd = await SshServer.start(USER, netns);
    const knownHosts = path.join(suite.daemon.userHome, '.ssh', 'known_hosts');
    mkdirSync(path.dirname(knownHosts), { recursive: true, mode: 0o700 });
    writeFileSync(knownHosts, sshd.knownHostsLine);
    const added = await suite.daemon.cli(['host', 'add', 'far', sshd.destination, '--port', String(sshd.port), '--identity', sshd.identity]);
    assert.equal(added.code, 0, added.stderr);
  });
  after(async () => {
    netns?.restore();
    await sshd?.stop();
    netns?.remove();
  });

  test('the session is unreachable once ssh notices the silence, its program goes on there, and it is running again, the same program, once the link is back', async () => {
    const started = await suite.daemon.cli(['start', '--host', 'far', '-p', 'shell', '-d', '/tmp', '-n', 'silent', '--json', '--', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 1; done']);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    const show = () => suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
    const lastTick = async () => Math.max(0, ...[...(await suite.daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text.matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
    await waitFor('the program to tick', async () => (await lastTick()) >= 2, 30_000);

    netns.cut();
    const cutAt = Date.now();
    const before = await lastTick();
    // ssh's keep-alive (15 s, 3 missed) tells the silence from a quiet program.
    await waitFor('the session to be unreachable', async () => (await show()).status === 'unreachable', 120_000);
    netns.restore();
    await waitFor('the session to be running again', async () => (await show()).status === 'running', 120_000);
    const away = Math.floor((Date.now() - cutAt) / 1000);
    const after = await waitFor('the screen to show the program again', async () => {
      const tick = await lastTick();
      return tick > before + away / 2 ? tick : undefined;
    }, 30_000);
    assert.ok(after > before + away / 2, `the program ticked on while the link was down (${before} then ${after}, ${away} s away): it was not started again`);
    const { events } = await suite.daemon.client.call(eventEndpoints.list, { query: { session: session.id, limit: 1000 } });
    assert.deepEqual(events.filter((e) => e.type === 'session.exited'), [], 'the session never ended');
    await suite.daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });
  });
});
