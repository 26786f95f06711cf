/**
 * The stack the daemon is built on and nothing of ours: fastify answering
 * /health on a Unix socket, a sqlite3 database open, pino writing to a file.
 * Run as a process of its own by the startup benchmark, which reads its RSS
 * once idle: no daemon built on these can idle below it. Prints `ready` once
 * it listens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { pino } from 'pino';
import sqlite3 from 'sqlite3';

const dir = mkdtempSync('/tmp/cpb-floor-');
process.once('SIGTERM', () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
const db = new sqlite3.Database(path.join(dir, 'floor.db'));
db.run('CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT)');
const app = Fastify({ loggerInstance: pino(pino.destination({ dest: path.join(dir, 'floor.log'), sync: true })) });
app.get('/health', async () => ({ ok: true }));
await app.listen({ path: path.join(dir, 'floor.sock') });
process.stdout.write('ready\n');
