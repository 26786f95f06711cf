import { spawn } from 'node:child_process';
import { databasePath } from '@codepiper/sdk';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { cliPath, TestDaemon } from '@codepiper/tests/harness';
import { distribution, round } from './stats.js';

const EVENTS = 200_000;

/** Runs a program, counting the lines it prints; resolves with the count and the wall time (ms). */
function timedLines(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ lines: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ lines, ms: performance.now() - started }) : reject(new Error(`${file} exited with ${code}`))));
  });
}

export interface EventsJsonResult {
  events: number;
  runs: number;
  /** Medians of the runs. */
  codepiperMs: number;
  sqlite3Ms: number;
  ratio: number;
}

/** Each side runs this often, in turn: one run of each swung the ratio by 0.3 on a busy machine. */
const RUNS = 5;

/**
 * `codepiper events ID --json` over 200,000 stored events, against `sqlite3
 * -json` reading the same rows; the two take turns, and the medians are compared.
 */
export async function eventsJson(): Promise<EventsJsonResult> {
  const daemon = await TestDaemon.start();
  try {
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', args: ['sleep', '600'] } });
    await daemon.stop();
    const database = databasePath(daemon.home);
    const insert = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${EVENTS})
      INSERT INTO events (session_id, type, ts, source, payload)
      SELECT '${session.id}', 'bench.event', strftime('%Y-%m-%dT%H:%M:%fZ'), 'bench', json_object('i', i, 'text', 'a line of output from the program') FROM n;`;
    await timedLines('sqlite3', [database, insert], process.env);
    await daemon.start();

    const query = `SELECT id, session_id AS sessionId, type, ts, source, json(payload) AS payload FROM events WHERE session_id = '${session.id}' ORDER BY id`;
    const ourMs: number[] = [];
    const theirMs: number[] = [];
    let events = 0;
    for (let run = 0; run < RUNS; run++) {
      const ours = await timedLines(process.execPath, [cliPath, 'events', session.id, '--json'], daemon.env);
      const theirs = await timedLines('sqlite3', ['-json', database, query], process.env);
      // sqlite3 -json prints one row a line, the first after `[`, the last before `]`.
      if (ours.lines !== theirs.lines || ours.lines < EVENTS) throw new Error(`codepiper printed ${ours.lines} events, sqlite3 ${theirs.lines} rows`);
      events = ours.lines;
      ourMs.push(ours.ms);
      theirMs.push(theirs.ms);
    }
    const [codepiperMs, sqlite3Ms] = [distribution(ourMs).p50, distribution(theirMs).p50];
    return { events, runs: RUNS, codepiperMs: round(codepiperMs), sqlite3Ms: round(sqlite3Ms), ratio: round(codepiperMs / sqlite3Ms) };
  } finally {
    await daemon.dispose();
  }
}
