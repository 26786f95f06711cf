import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ApiClient, ApiError, databasePath } from '@codepiper/sdk';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { suiteDaemon, waitFor } from './harness.js';

describe('shell sessions through the CLI and the API', () => {
  const suite = suiteDaemon();

  /**
   * `cat`, or with `reportsItsEnd` a shell that runs cat and prints how it ended: cat closes its
   * terminal before it exits, and tmux, seeing the terminal's end, hangs it up, which can kill cat
   * with SIGHUP before its exit (traced: the SIGHUP comes from tmux's closing of the pane). A shell
   * keeps the terminal open until it exits, and waits for a line after its report: what a program
   * prints in the instant before it exits can be lost with its pty (README), and the report could be.
   */
  const startCat = async (name?: string, reportsItsEnd = false): Promise<SessionRecord> => {
    const program = reportsItsEnd ? ['sh', '-c', 'cat; echo "cat ended: $?"; read line'] : ['cat'];
    const args = ['start', '-p', 'shell', '-d', suite.workdir, '--json', ...(name ? ['-n', name] : []), '--', ...program];
    const result = await suite.daemon.cli(args);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as SessionRecord;
  };
  const screenText = async (id: string): Promise<string> => (await suite.daemon.client.call(sessionEndpoints.screen, { params: { id } })).text;

  test('start runs the program in the private tmux server and lists it', async () => {
    const session = await startCat('lister');
    assert.match(session.id, /^[0-9a-f-]{36}$/);
    assert.equal(session.status, 'running');
    assert.equal(session.cwd, suite.workdir);
    assert.deepEqual(session.command, ['cat']);

    const ls = await suite.daemon.cli(['ls']);
    assert.equal(ls.code, 0);
    assert.match(ls.stdout, new RegExp(`${session.id.slice(0, 8)}\\s+lister\\s+shell\\s+running`));

    const listed = JSON.parse((await suite.daemon.cli(['sessions', '--json'])).stdout) as { sessions: SessionRecord[] };
    assert.ok(listed.sessions.some((s) => s.id === session.id));

    assert.match(suite.daemon.tmux(['list-sessions', '-F', '#{session_name}']).stdout, new RegExp(`cp-${session.id}`));
  });

  test('text with quotes, ;, $(), backticks and newlines is typed literally, never run', async () => {
    const session = await startCat();
    const tricky = `it's "quoted"; $(touch ${suite.workdir}/pwned) \`id\` #{pane_id} && echo ünï 🚀`;
    const sent = await suite.daemon.cli(['send', session.id.slice(0, 8), tricky]);
    assert.equal(sent.code, 0, sent.stderr);
    await waitFor('the echo of the text', async () => (await screenText(session.id)).split('\n').filter((l) => l === tricky).length === 2);
    const two = await suite.daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'line one\nline two' } });
    assert.deepEqual(two, { ok: true });
    await waitFor('both lines', async () => /line two/.test(await screenText(session.id)));
    assert.equal(existsSync(`${suite.workdir}/pwned`), false, 'the $(...) was not run');
  });

  test('send with no text takes what is piped in; a text longer than one send can take is refused, naming both lengths', async () => {
    const out = path.join(suite.workdir, 'piped.txt');
    const started = await suite.daemon.cli(['start', '-p', 'shell', '-d', suite.workdir, '--json', '--', 'sh', '-c', `stty -echo -icanon; cat > ${out}`]);
    const session = JSON.parse(started.stdout) as SessionRecord;
    const prompt = `# a prompt from a file\n${'word '.repeat(12_000)}\nits last line`;
    const sent = await suite.daemon.cli(['send', session.id], { input: `${prompt}\n` });
    assert.equal(sent.code, 0, sent.stderr);
    // The file's last newline is not sent twice: the text, then one Enter.
    await waitFor('the text and its Enter', () => existsSync(out) && readFileSync(out, 'utf8').endsWith('its last line\n'), 30_000);
    assert.equal(readFileSync(out, 'utf8'), `${prompt}\n`);

    const empty = await suite.daemon.cli(['send', session.id], { input: '' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /nothing to send: give the text after the session id, or pipe it in/);
    const tooLong = await suite.daemon.cli(['send', session.id], { input: 'é'.repeat(65_537) });
    assert.equal(tooLong.code, 2);
    assert.match(tooLong.stderr, /the text is 65537 characters long; one send takes at most 65536/);
    const api = await suite.daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'x'.repeat(65_537) } }).catch((e: unknown) => e);
    assert.ok(api instanceof ApiError && api.status === 400);
    assert.equal(api.message, '"text" must be at most 65536 characters long');
    assert.equal(readFileSync(out, 'utf8'), `${prompt}\n`, 'nothing of the refused texts was typed');
  });

  test('50 clients sending at once: every line arrives whole, once, none merged or empty', async () => {
    const out = path.join(suite.workdir, 'lines.txt');
    const started = await suite.daemon.cli(['start', '-p', 'shell', '-d', suite.workdir, '--json', '--', 'sh', '-c', `cat > ${out}`]);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} from client ${i}`);
    await Promise.all(lines.map((text) => new ApiClient({ socketPath: suite.daemon.socketPath }).call(sessionEndpoints.input, { params: { id: session.id }, body: { text } })));
    const received = await waitFor('all 50 lines', () => {
      const got = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => l !== '') : [];
      return got.length >= 50 ? got : undefined;
    });
    assert.deepEqual([...received].sort(), [...lines].sort());
  });

  test('--no-enter types without submitting; keys presses named keys', async () => {
    const session = await startCat(undefined, true);
    assert.equal((await suite.daemon.cli(['send', session.id, '--no-enter', 'partial'])).code, 0);
    await waitFor('the partial text', async () => (await screenText(session.id)).includes('partial'));
    assert.equal((await screenText(session.id)).split('\n').filter((l) => l === 'partial').length, 1, 'cat echoes a line only after Enter');
    assert.equal((await suite.daemon.cli(['keys', session.id, 'enter'])).code, 0);
    await waitFor('cat to echo the line', async () => (await screenText(session.id)).split('\n').filter((l) => l === 'partial').length === 2);

    const badKey = await suite.daemon.cli(['keys', session.id, 'hyperspace']);
    assert.notEqual(badKey.code, 0);
    assert.match(badKey.stderr, /hyperspace/);

    assert.equal((await suite.daemon.cli(['keys', session.id, 'ctrl+d'])).code, 0);
    await waitFor('cat to end at the end of its input', async () => {
      const screen = await screenText(session.id);
      if (!screen.includes('cat ended: 0')) throw new Error(`the screen shows:\n${screen}`);
      return true;
    });
    assert.equal((await suite.daemon.cli(['keys', session.id, 'enter'])).code, 0);
    const ended = await waitFor('the shell to exit', async () => {
      const s = await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
      return s.status === 'exited' ? s : undefined;
    });
    assert.equal(ended.exitCode, 0, `ended: ${ended.statusDetail}; the daemon's log of it:\n${suite.daemon.logLines(session.id).join('\n')}`);
  });

  test('an exit code is recorded, with the last screen kept for `output`', async () => {
    const result = await suite.daemon.cli(['start', '-p', 'shell', '-d', suite.workdir, '--json', '--', 'sh', '-c', 'echo goodbye; sleep 0.5; exit 7']);
    const session = JSON.parse(result.stdout) as SessionRecord;
    const ended = await waitFor('the program to end', async () => {
      const s = await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
      return s.status === 'exited' ? s : undefined;
    });
    assert.equal(ended.exitCode, 7);
    const output = await suite.daemon.cli(['output', session.id]);
    assert.equal(output.code, 0);
    assert.match(output.stdout, /goodbye/);
    const events = (await suite.daemon.cli(['events', session.id, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; payload: { exitCode?: number } });
    assert.deepEqual(
      events.map((e) => e.type),
      ['session.started', 'session.status', 'session.status', 'session.exited'],
    );
    assert.equal(events.at(-1)?.payload.exitCode, 7);
    assert.equal(suite.daemon.tmux(['has-session', '-t', `=cp-${session.id}`]).code, 1, 'the finished session’s tmux session is removed');
  });

  test('rename, show, stop and kill', async () => {
    const session = await startCat();
    const renamed = await suite.daemon.cli(['rename', session.id, 'my work', '--json']);
    assert.equal((JSON.parse(renamed.stdout) as SessionRecord).name, 'my work');
    const shown = await suite.daemon.cli(['show', 'my work']);
    assert.match(shown.stdout, /my work/);

    const stopped = JSON.parse((await suite.daemon.cli(['stop', session.id, '--json'])).stdout) as SessionRecord;
    assert.equal(stopped.status, 'exited');

    const other = await startCat();
    const killed = JSON.parse((await suite.daemon.cli(['kill', other.id, '--json'])).stdout) as SessionRecord;
    assert.equal(killed.status, 'exited');
    assert.equal(killed.statusDetail, 'killed');
  });

  test('bad input gets a clear error, a non-zero exit and leaves nothing behind', async () => {
    const before = (await suite.daemon.client.call(sessionEndpoints.list)).sessions.length;

    const noDir = await suite.daemon.cli(['start', '-p', 'shell', '-d', '/definitely/not/here', '--', 'cat']);
    assert.notEqual(noDir.code, 0);
    assert.match(noDir.stderr, /\/definitely\/not\/here/);

    const noProvider = await suite.daemon.cli(['start', '-p', 'nonesuch', '-d', suite.workdir]);
    assert.notEqual(noProvider.code, 0);
    assert.match(noProvider.stderr, /unknown provider "nonesuch"/);

    const noCommand = await suite.daemon.cli(['start', '-p', 'shell', '-d', suite.workdir, '--', 'no-such-program-xyz']);
    assert.notEqual(noCommand.code, 0);
    assert.match(noCommand.stderr, /command not found: "no-such-program-xyz"/);

    assert.equal((await suite.daemon.client.call(sessionEndpoints.list)).sessions.length, before, 'no session was recorded');

    const unknown = await suite.daemon.cli(['send', 'ffffffff', 'hello']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /"ffffffff"/);

    const api = await suite.daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: 'relative/dir' } }).catch((e: unknown) => e);
    assert.ok(api instanceof ApiError);
    assert.equal(api.status, 400);
  });

  test('agent-only commands say clearly that a shell session cannot do them', async () => {
    const session = await startCat();
    const model = await suite.daemon.cli(['model', session.id, 'sonnet']);
    assert.notEqual(model.code, 0);
    assert.match(model.stderr, /cannot switch models/);
    const transcript = await suite.daemon.cli(['transcript', session.id]);
    assert.notEqual(transcript.code, 0);
    assert.match(transcript.stderr, /keeps no transcript/);
    const running = await suite.daemon.cli(['resume', session.id]);
    assert.match(running.stderr, /still running/);
    await suite.daemon.cli(['kill', session.id]);
    const resume = await suite.daemon.cli(['resume', session.id]);
    assert.notEqual(resume.code, 0);
    assert.match(resume.stderr, /cannot resume/);
  });

  test('input to an exited session is refused', async () => {
    const session = await startCat();
    await suite.daemon.cli(['kill', session.id]);
    const refused = await suite.daemon.cli(['send', session.id, 'hello?']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /exited/);
    const api = await suite.daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'x' } }).catch((e: unknown) => e);
    assert.ok(api instanceof ApiError);
    assert.equal(api.status, 409);
  });

  test('a unique id prefix or a name is accepted; an ambiguous one is refused with the candidates', async () => {
    const byFirstChar = new Map<string, string>();
    let pair: [string, string] | undefined;
    while (!pair) {
      const { id } = await startCat();
      const twin = byFirstChar.get(id[0]!);
      if (twin) pair = [twin, id];
      byFirstChar.set(id[0]!, id);
    }
    const show = await suite.daemon.cli(['show', pair[1].slice(0, 8), '--json']);
    assert.equal((JSON.parse(show.stdout) as SessionRecord).id, pair[1]);

    const ambiguous = await suite.daemon.cli(['show', pair[0][0]!]);
    assert.notEqual(ambiguous.code, 0);
    assert.match(ambiguous.stderr, /ambiguous/);
    assert.ok(ambiguous.stderr.includes(pair[0].slice(0, 8)) && ambiguous.stderr.includes(pair[1].slice(0, 8)), ambiguous.stderr);
  });

  test('stop and kill of a session that has ended succeed and leave it as it was', async () => {
    const result = await suite.daemon.cli(['start', '-p', 'shell', '-d', suite.workdir, '--json', '--', 'sh', '-c', 'exit 3']);
    const session = JSON.parse(result.stdout) as SessionRecord;
    await waitFor('the exit', async () => (await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status === 'exited');
    for (const verb of ['stop', 'kill', 'stop']) {
      const again = await suite.daemon.cli([verb, session.id, '--json']);
      assert.equal(again.code, 0, again.stderr);
      const record = JSON.parse(again.stdout) as SessionRecord;
      assert.deepEqual([record.status, record.exitCode, record.statusDetail], ['exited', 3, null], `${verb} keeps the exit code`);
    }
  });

  test('a name belongs to one session: taken names are refused, even by starts racing for it, until rm frees it', async () => {
    const holder = await startCat('taken');
    const second = await suite.daemon.cli(['start', '-p', 'shell', '-d', suite.workdir, '-n', 'taken', '--', 'cat']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`a session named "taken" exists \\(${holder.id.slice(0, 8)}, running\\)`));

    const other = await startCat();
    const rename = await suite.daemon.cli(['rename', other.id, 'taken']);
    assert.equal(rename.code, 1);
    assert.match(rename.stderr, /a session named "taken" exists/);

    const race = await Promise.allSettled(
      Array.from({ length: 6 }, () => suite.daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: suite.workdir, name: 'raced', args: ['cat'] } })),
    );
    const won = race.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, 'one start gets the name');
    for (const lost of race.filter((r) => r.status === 'rejected')) {
      assert.ok(lost.reason instanceof ApiError && lost.reason.status === 409 && lost.reason.code === 'name_taken', String(lost.reason));
    }
    const raced = (await suite.daemon.client.call(sessionEndpoints.list)).sessions.filter((s) => s.name === 'raced');
    assert.equal(raced.length, 1);
    const tmuxSessions = suite.daemon.tmux(['list-sessions', '-F', '#{session_name}']).stdout;
    assert.equal(race.length - won.length, 5);
    assert.ok(tmuxSessions.includes(`cp-${raced[0]!.id}`), 'the winner runs');

    const running = await suite.daemon.cli(['rm', 'taken']);
    assert.equal(running.code, 1);
    assert.match(running.stderr, /is running; stop it first/);
    await suite.daemon.cli(['stop', 'taken']);
    const removed = await suite.daemon.cli(['rm', 'taken', '--json']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual((JSON.parse(removed.stdout) as { removed: SessionRecord[] }).removed.map((s) => s.id), [holder.id]);
    assert.equal((await suite.daemon.cli(['show', holder.id])).code, 1, 'forgotten');
    const events = await suite.daemon.cli(['events', holder.id]);
    assert.equal(events.code, 1, 'its events are no longer reached through the session');
    await startCat('taken');
  });

  test('prune forgets every finished session and keeps the running ones', async () => {
    const running = await startCat();
    const finished = await startCat();
    await suite.daemon.cli(['kill', finished.id]);
    const pruned = await suite.daemon.cli(['prune', '--json']);
    assert.equal(pruned.code, 0, pruned.stderr);
    const removed = (JSON.parse(pruned.stdout) as { removed: SessionRecord[] }).removed;
    assert.ok(removed.some((s) => s.id === finished.id));
    assert.ok(removed.every((s) => s.status === 'exited' || s.status === 'crashed'));
    const left = (await suite.daemon.client.call(sessionEndpoints.list)).sessions;
    assert.ok(left.some((s) => s.id === running.id));
    assert.ok(left.every((s) => s.status !== 'exited' && s.status !== 'crashed'));
    assert.equal((await suite.daemon.cli(['prune'])).stdout.trim(), 'no finished sessions');
  });

  test('ls lists every running session and the 20 newest finished, saying how many older ones it left out; --all lists them all', async () => {
    const running = await startCat('still-running');
    const ended: SessionRecord[] = [];
    for (let i = 0; i < 22; i++) ended.push(await suite.daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: suite.workdir, args: ['true'], name: `ended-${i}` } }));
    const finishedIds = async (query: { status?: 'exited'; finished?: number } = {}) => {
      const listing = await suite.daemon.client.call(sessionEndpoints.list, { query });
      return { ids: listing.sessions.filter((s) => s.status === 'exited' || s.status === 'crashed').map((s) => s.id), listing };
    };
    await waitFor('all 22 ended', async () => (await finishedIds()).ids.length >= 22 || undefined);
    const total = (await finishedIds()).ids.length;
    const newest = [...ended].reverse().map((s) => s.id);

    const ls = await suite.daemon.cli(['ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`${running.id.slice(0, 8)}\\s+still-running`));
    for (const id of newest.slice(0, 20)) assert.ok(ls.stdout.includes(id.slice(0, 8)), `the newest finished ${id} listed`);
    for (const id of newest.slice(20)) assert.ok(!ls.stdout.includes(id.slice(0, 8)), `an older finished ${id} left out`);
    assert.equal(ls.stdout.trim().split('\n').at(-1), `(${total - 20} older finished sessions not shown: codepiper ls --all)`);

    const json = JSON.parse((await suite.daemon.cli(['ls', '--json'])).stdout) as { sessions: SessionRecord[]; finishedLeftOut: number };
    assert.deepEqual(json.sessions.filter((s) => s.status === 'exited').map((s) => s.id), newest.slice(0, 20));
    assert.equal(json.finishedLeftOut, total - 20);
    assert.ok(json.sessions.some((s) => s.id === running.id));
    const createdAt = json.sessions.map((s) => s.createdAt);
    assert.deepEqual(createdAt, [...createdAt].sort().reverse(), 'newest first');

    const all = JSON.parse((await suite.daemon.cli(['ls', '--all', '--json'])).stdout) as { sessions: SessionRecord[]; finishedLeftOut: number };
    assert.equal(all.finishedLeftOut, 0);
    assert.ok(newest.every((id) => all.sessions.some((s) => s.id === id)));
    assert.ok(!(await suite.daemon.cli(['ls', '--all'])).stdout.includes('not shown'));

    const onlyRunning = await finishedIds({ finished: 0 });
    assert.deepEqual([onlyRunning.ids, onlyRunning.listing.finishedLeftOut], [[], total]);
    assert.ok(onlyRunning.listing.sessions.some((s) => s.id === running.id));
    const exited = await finishedIds({ status: 'exited', finished: 3 });
    assert.deepEqual(exited.ids, newest.slice(0, 3));
    assert.equal(exited.listing.sessions.length, 3, 'the status filter holds for the running ones too');

    for (const bad of ['-1', '1.5', 'many']) {
      const refused = spawnSync('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', suite.daemon.socketPath, `http://codepiper/sessions?finished=${bad}`], { encoding: 'utf8' });
      const [body, code] = refused.stdout.split('\n');
      assert.equal(code, '400', `finished=${bad}`);
      assert.match(body ?? '', /finished/, `the error names the parameter: ${body}`);
    }
  });

  // Last: it restarts the daemon.
  test('a home from before names were unique keeps all its sessions: the older of two with one name gets its id prefix', async () => {
    const older = await startCat('dupe-older');
    const newer = await startCat('dupe-newer');
    await suite.daemon.stop();
    // The schema as migration 1 left it, with two sessions of one name.
    const sqlite = spawnSync('sqlite3', [
      databasePath(suite.daemon.home),
      `DROP INDEX sessions_by_name; CREATE INDEX sessions_by_name ON sessions (name);
       DELETE FROM _migrations WHERE plugin = 'sessions' AND version = 2;
       UPDATE sessions SET name = 'same' WHERE id IN ('${older.id}', '${newer.id}');`,
    ], { encoding: 'utf8' });
    assert.equal(sqlite.status, 0, sqlite.stderr);
    await suite.daemon.start();
    const show = async (id: string): Promise<SessionRecord> => suite.daemon.client.call(sessionEndpoints.show, { params: { id } });
    assert.equal((await show(newer.id)).name, 'same');
    assert.equal((await show(older.id)).name, `same-${older.id.slice(0, 8)}`);
    assert.equal((await show(older.id)).status, 'running', 'nothing else changed');
  });
});
