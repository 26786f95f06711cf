import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { daemonEndpoints, type ApiError } from '@codepiper/sdk';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { suiteDaemon, waitFor } from './harness.js';
import { readTerminal } from './terminal-client.js';

describe('sessions survive the CLI, a daemon stop and a daemon crash', () => {
  const suite = suiteDaemon();

  const start = async (...argv: string[]): Promise<SessionRecord> => {
    const result = await suite.daemon.cli(['start', '-p', 'shell', '-d', suite.workdir, '--json', '--', ...argv]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as SessionRecord;
  };
  const show = (id: string) => suite.daemon.client.call(sessionEndpoints.show, { params: { id } });
  const tmuxSessions = () => suite.daemon.tmux(['list-sessions', '-F', '#{session_name}']).stdout.split('\n').filter((n) => n.startsWith('cp-')).sort();

  test('a restarted daemon re-adopts live sessions and records those that ended meanwhile', async () => {
    const survivor = await start('cat');
    const quitter = await start('sh', '-c', 'read line; exit 5');
    const crashSurvivor = await start('cat');

    await suite.daemon.stop();
    // The daemon is down; the programs are not.
    assert.deepEqual(tmuxSessions(), [survivor, quitter, crashSurvivor].map((s) => `cp-${s.id}`).sort());
    suite.daemon.tmux(['send-keys', '-t', `=cp-${quitter.id}:`, 'bye', 'Enter']);
    await waitFor('the quitter to end while the daemon is down', () => suite.daemon.tmux(['display', '-p', '-t', `=cp-${quitter.id}:`, '#{pane_dead}']).stdout.trim() === '1');

    await suite.daemon.start();
    assert.equal((await show(survivor.id)).status, 'running');
    const quit = await show(quitter.id);
    assert.equal(quit.status, 'exited');
    assert.equal(quit.exitCode, 5);
    assert.deepEqual(tmuxSessions(), [survivor, crashSurvivor].map((s) => `cp-${s.id}`).sort(), 'no dead or duplicate tmux session is left');

    const adopted = await suite.daemon.cli(['events', survivor.id, '--json']);
    assert.match(adopted.stdout, /session\.adopted/);

    // SIGKILL: no clean-up at all, not even of the scratch directory a watched terminal's pane pipe is in.
    const watched = readTerminal(suite.daemon.client, survivor.id);
    await watched.ready;
    await suite.daemon.crash();
    await watched.closed;
    await suite.daemon.start();
    for (const s of [survivor, crashSurvivor]) assert.equal((await show(s.id)).status, 'running');
    assert.deepEqual(tmuxSessions(), [survivor, crashSurvivor].map((s) => `cp-${s.id}`).sort());

    // Streaming and input work on an adopted session.
    const seen = readTerminal(suite.daemon.client, crashSurvivor.id);
    await seen.ready;
    assert.equal((await suite.daemon.cli(['send', crashSurvivor.id, 'after the crash'])).code, 0);
    await seen.until((text) => text.split('after the crash').length >= 3);
    seen.close();

    // The crashed daemon's scratch directory (its pastes and pane pipes) did not outlive it: one is left, the new daemon's.
    const { pid } = await suite.daemon.client.call(daemonEndpoints.status);
    const scratch = readdirSync(path.dirname(suite.daemon.tmuxSocket)).filter((name) => name.startsWith('cp-scratch-'));
    assert.deepEqual(scratch.map((name) => name.split('-')[2]), [String(pid)]);
  });

  test('a session whose tmux session vanished is recorded as crashed; a tmux session no record owns is left running', async () => {
    const victim = await start('cat');
    await suite.daemon.crash();
    suite.daemon.tmux(['kill-session', '-t', `=cp-${victim.id}`]);
    suite.daemon.tmux(['new-session', '-d', '-s', 'cp-00000000-0000-4000-8000-000000000000', 'cat']);
    await suite.daemon.start();
    const lost = await show(victim.id);
    assert.equal(lost.status, 'crashed');
    assert.equal(suite.daemon.tmux(['has-session', '-t', '=cp-00000000-0000-4000-8000-000000000000']).code, 0, 'the stray still runs');
    suite.daemon.tmux(['kill-session', '-t', '=cp-00000000-0000-4000-8000-000000000000']);
  });

  test('the tmux server dies under running sessions: each is recorded as crashed, and what is sent to it meanwhile is refused as ended, never a fault', async () => {
    const victims = [await start('cat'), await start('cat')];
    const serverPid = Number(suite.daemon.tmux(['display', '-p', '#{pid}']).stdout.trim());
    process.kill(serverPid, 'SIGKILL');
    // Sent at once, before the daemon has taken the loss in, and again until it has.
    const refusals: ApiError[] = [];
    const tryAll = async (id: string) => {
      const client = suite.daemon.client;
      const calls = [
        client.call(sessionEndpoints.input, { params: { id }, body: { text: 'hello' } }),
        client.call(sessionEndpoints.keys, { params: { id }, body: { keys: ['enter'] } }),
        client.call(sessionEndpoints.screen, { params: { id } }),
        client.call(sessionEndpoints.resize, { params: { id }, body: { cols: 100, rows: 30 } }),
      ];
      for (const outcome of await Promise.allSettled(calls)) {
        if (outcome.status === 'rejected') refusals.push(outcome.reason as ApiError);
      }
    };
    await waitFor('both sessions recorded as crashed', async () => {
      await Promise.all(victims.map((v) => tryAll(v.id)));
      return (await Promise.all(victims.map((v) => show(v.id)))).every((s) => s.status === 'crashed');
    });
    assert.ok(refusals.length > 0);
    // Ended (no screen kept either: tmux went with it), naming the session; or tmux away, which the daemon mends itself.
    const expected = new Set(['409 session_ended named', '404 no_screen named', '503 tmux_disconnected']);
    for (const refusal of refusals) {
      const named = victims.some((v) => refusal.message.includes(v.id.slice(0, 8)));
      const seen = `${refusal.status} ${refusal.code}${named ? ' named' : ''}`;
      assert.ok(expected.has(seen), `${seen}: ${refusal.message}`);
    }
    // A new session gets a new tmux server.
    const next = await start('cat');
    assert.equal((await show(next.id)).status, 'running');
  });

  test('sessions keep running after the CLI that started them exits', async () => {
    const session = await start('sleep', '600');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await show(session.id)).status, 'running');
    assert.equal(suite.daemon.tmux(['display', '-p', '-t', `=cp-${session.id}:`, '#{pane_dead}']).stdout.trim(), '0');
  });

  test('a restarted daemon gives new sessions its own environment, not the one the tmux server started with', async () => {
    const env = suite.daemon.extraEnv;
    Object.assign(env, { CP_TEST_URL: 'http://old.example', CP_TEST_GONE: 'still here', CP_TEST_ODD: 'one\ntwo \'quoted\' #{x}' });
    await suite.daemon.stop();
    await suite.daemon.start();
    // A session that outlives the daemon keeps the tmux server, and its global environment, alive.
    const keeper = await start('sleep', '600');
    const printed = async (): Promise<string> => {
      const probe = await start('sh', '-c', 'printf "%s|%s|%s" "$CP_TEST_URL" "${CP_TEST_GONE-unset}" "$CP_TEST_ODD"; exec sleep 600');
      await waitFor('the probe to print', async () => (await suite.daemon.cli(['output', probe.id])).stdout.includes('|'));
      return (await suite.daemon.cli(['output', probe.id])).stdout.trim();
    };
    assert.equal(await printed(), "http://old.example|still here|one\ntwo 'quoted' #{x}");

    await suite.daemon.stop();
    env.CP_TEST_URL = 'http://new.example';
    delete env.CP_TEST_GONE;
    await suite.daemon.start();
    assert.equal((await show(keeper.id)).status, 'running', 'the tmux server was kept');
    assert.equal(await printed(), "http://new.example|unset|one\ntwo 'quoted' #{x}");
    for (const name of ['CP_TEST_URL', 'CP_TEST_ODD']) delete env[name];
  });

  // Last: it leaves the suite's daemon on a new database.
  test('a lost database: the daemon refuses to start, naming the file, and kills nothing; started afresh, the programs still run', async () => {
    const program = await start('cat');
    await suite.daemon.stop();
    const home = suite.daemon.home;
    for (const name of ['codepiper.db', 'codepiper.db-wal', 'codepiper.db-shm']) rmSync(path.join(home, name), { force: true });
    await assert.rejects(suite.daemon.start(), (error: Error) => error.message.includes(`the database ${path.join(home, 'codepiper.db')} is missing`) && error.message.includes(path.join(home, 'database.json')));
    assert.ok(tmuxSessions().includes(`cp-${program.id}`), 'the program still runs');

    rmSync(path.join(home, 'database.json'));
    await suite.daemon.start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.ok(tmuxSessions().includes(`cp-${program.id}`), 'started afresh, the daemon left it running');
    suite.daemon.tmux(['kill-session', '-t', `=cp-${program.id}`]);
  });
});
