import { spawn } from 'node:child_process';
import { databasePath } from '@codepiper/sdk';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { cliPath, TestDaemon } from '@codepiper/tests/harness';
import { round } from './stats.js';

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
  codepiperMs: number;
  sqlite3Ms: number;
  ratio: number;
}

/** `codepiper events ID --json` over 200,000 stored events, against `sqlite3 -json` reading the same rows. */
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

    const ours = await timedLines(process.execPath, [cliPath, 'events', session.id, '--json'], daemon.env);
    const query = `SELECT id, session_id AS sessionId, type, ts, source, json(payload) AS payload FROM events WHERE session_id = '${session.id}' ORDER BY id`;
    const theirs = await timedLines('sqlite3', ['-json', database, query], process.env);
    // sqlite3 -json prints one row a line between `[` and `]`.
    if (ours.lines !== theirs.lines - 2 && ours.lines < EVENTS) throw new Error(`codepiper printed ${ours.lines} events, sqlite3 ${theirs.lines - 2} rows`);
    return { events: ours.lines, codepiperMs: round(ours.ms), sqlite3Ms: round(theirs.ms), ratio: round(ours.ms / theirs.ms) };
  } finally {
    await daemon.dispose();
  }
}
