import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { databasePath } from '@codepiper/sdk';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/events-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { cliPath, suiteDaemon, waitFor } from './harness.js';

/** More than two of the daemon's pages of JSON lines, so that paging shows. */
const STORED = 25_000;

describe('codepiper events', () => {
  const suite = suiteDaemon();
  let first: SessionRecord;
  let second: SessionRecord;

  /** Every stored event of a session, through the paged list endpoint. */
  async function listed(session: string, type?: string): Promise<CodePiperEvent[]> {
    const all: CodePiperEvent[] = [];
    for (let after = 0; ; ) {
      const { events } = await suite.daemon.client.call(eventEndpoints.list, { query: { session, type, after, limit: 10_000 } });
      all.push(...events);
      if (events.length < 10_000) return all;
      after = events.at(-1)!.id;
    }
  }

  const eventsJson = async (...args: string[]): Promise<CodePiperEvent[]> => {
    const result = await suite.daemon.cli(['events', ...args, '--json']);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as CodePiperEvent);
  };

  test('prints every stored event of the session, in order, the same as the API, whatever the payload holds', async () => {
    const start = async (): Promise<SessionRecord> => suite.daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: suite.workdir, args: ['cat'] } });
    [first, second] = [await start(), await start()];
    await suite.daemon.stop();
    // Two sessions' events interleaved, with payloads that need escaping: quotes, backslashes, newlines, tabs, non-ASCII.
    const insert = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${STORED * 2})
      INSERT INTO events (session_id, type, ts, source, payload)
      SELECT CASE i % 2 WHEN 0 THEN '${first.id}' ELSE '${second.id}' END, CASE i % 3 WHEN 0 THEN 'bench.odd' ELSE 'bench.even' END,
             strftime('%Y-%m-%dT%H:%M:%fZ'), 'test', json_object('i', i, 'text', 'say "hi" \\ to ' || char(10) || char(9) || 'café ✓', 'list', json_array(i, null, 1.5))
      FROM n;`;
    const sqlite = spawnSync('sqlite3', [databasePath(suite.daemon.home), insert], { encoding: 'utf8' });
    assert.equal(sqlite.status, 0, sqlite.stderr);
    await suite.daemon.start();

    const printed = await eventsJson(first.id.slice(0, 8));
    assert.ok(printed.length > STORED, `${printed.length} events printed`);
    assert.deepEqual(printed, await listed(first.id));
    assert.ok(printed.every((event, i) => event.sessionId === first.id && (i === 0 || event.id > printed[i - 1]!.id)));
    assert.equal((printed.find((event) => event.type.startsWith('bench.'))!.payload as { text: string }).text, 'say "hi" \\ to \n\tcafé ✓');
  });

  test('--type keeps one type, or every type under a prefix', async () => {
    const odd = await eventsJson(second.id, '--type', 'bench.odd');
    assert.deepEqual(odd, await listed(second.id, 'bench.odd'));
    assert.ok(odd.length > 0 && odd.every((event) => event.type === 'bench.odd'));
    const bench = await eventsJson(second.id, '--type', 'bench.*');
    assert.equal(bench.length, STORED);
    assert.ok(bench.every((event) => event.type.startsWith('bench.')));
  });

  test('prints one readable line an event without --json', async () => {
    const result = await suite.daemon.cli(['events', second.id, '--type', 'bench.even']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, (await listed(second.id, 'bench.even')).length);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\S+ bench\.even /);
  });

  test('-f goes on from the last stored event: each event once, new ones as they happen', async () => {
    const follower = spawn(process.execPath, [cliPath, 'events', first.id, '-f', '--json', '--type', 'session.*'], { env: suite.daemon.env });
    const seen: CodePiperEvent[] = [];
    createInterface({ input: follower.stdout }).on('line', (line) => seen.push(JSON.parse(line) as CodePiperEvent));
    try {
      const stored = await listed(first.id, 'session.*');
      await waitFor('the stored session events', () => seen.length >= stored.length);
      await suite.daemon.client.call(sessionEndpoints.stop, { params: { id: first.id } });
      await waitFor('the exit, live', () => seen.some((event) => event.type === 'session.exited'));
      assert.deepEqual(seen.slice(0, stored.length), stored);
      assert.equal(new Set(seen.map((event) => event.id)).size, seen.length, 'no event twice');
    } finally {
      follower.kill();
    }
  });

  test('events older than 90 days (events.keep_days) are removed as the daemon starts; newer ones stay', async () => {
    const oldest = async (): Promise<number[]> => (await suite.daemon.client.call(eventEndpoints.list, { query: { limit: 4 } })).events.map((event) => event.id);
    const [a, b, c, d] = await oldest();
    await suite.daemon.stop();
    // Time passes: the log's three oldest events are 91 days old, the next one 89.
    const age = (days: number, ids: (number | undefined)[]) => `UPDATE events SET ts = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-${days} days') WHERE id IN (${ids.join(', ')});`;
    const aged = spawnSync('sqlite3', [databasePath(suite.daemon.home), `${age(91, [a, b, c])} ${age(89, [d])}`], { encoding: 'utf8' });
    assert.equal(aged.status, 0, aged.stderr);
    await suite.daemon.start();
    await waitFor('the old events to go', async () => (await oldest())[0] !== a || undefined);
    assert.equal((await oldest())[0], d, 'the oldest left is the one within the 90 days');
    assert.ok(suite.daemon.logLines('older than 90 days').some((line) => line.includes('removed 3 events')), 'the daemon log says what it removed');
  });

  test('names the session it cannot find', async () => {
    const result = await suite.daemon.cli(['events', 'nosuchsession', '--json']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /nosuchsession/);
    assert.equal(result.stdout, '');
  });
});
