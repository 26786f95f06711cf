import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { raceTimeout } from '@codepiper/sdk';
import { tempDir } from './testing.js';

const index = path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.js');

/** A plugin whose event handler throws. */
const FLAKY = `{ name: 'flaky', api: '^1.0.0', description: 'Throws from a timer', register: () => ({
  start: () => void setTimeout(() => { throw new Error('stray handler error'); }, 1),
}) }`;

/** Runs `runDaemon` in a child process with one plugin (source text of its definition). */
function daemon(home: string, plugin = FLAKY) {
  const script = `
    import fs from 'node:fs';
    import { runDaemon } from ${JSON.stringify(index)};
    await runDaemon({ plugins: [${plugin}], foreground: true });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, CODEPIPER_HOME: home } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  /** Resolves once it listens; rejects if it exits first. */
  const listening = async (): Promise<void> => {
    while (!stderr.includes('listening on')) {
      const ended = await Promise.race([once(child.stderr, 'data').then(() => undefined), exited]);
      if (ended) throw new Error(`the daemon exited (${ended.code}) before listening: ${stderr}`);
    }
  };
  return { child, exited, listening };
}

describe('runDaemon', () => {
  it('runs until SIGTERM, survives a stray error, and says where it listens on stderr only', async (t) => {
    const home = tempDir(t);
    const { child, exited, listening } = daemon(home);
    await listening();
    await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGTERM');
    const { code, stdout, stderr } = await exited;
    assert.equal(code, 0);
    assert.equal(stdout, '');
    assert.match(stderr, new RegExp(`codepiper daemon listening on ${home}/daemon.sock \\(pid ${child.pid}\\)`));
    const log = fs.readFileSync(path.join(home, 'logs', 'daemon.log'), 'utf8');
    assert.match(log, /uncaught exception: stray handler error/);
    assert.match(log, /"reason":"SIGTERM","msg":"daemon stopped"/);
  });

  it('exits with 1 and the reason on stderr when it cannot start', async (t) => {
    const home = tempDir(t);
    const first = daemon(home);
    await first.listening();
    const { code, stderr } = await daemon(home).exited;
    first.child.kill('SIGTERM');
    await first.exited;
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`codepiper daemon: a daemon is already running \\(pid ${first.child.pid}\\)`));
    assert.doesNotMatch(stderr, /^\s+at /m, 'a refusal is its message, without a stack');
  });

  it('two daemons started at once on one home: one runs, the other says so before any plugin starts', async (t) => {
    for (let round = 0; round < 5; round++) {
      const home = tempDir(t);
      const marker = path.join(home, 'started');
      const recorder = `{ name: 'recorder', api: '^1.0.0', description: 'Records its start', register: () => ({ start: () => fs.appendFileSync(${JSON.stringify(marker)}, process.pid + '\\n') }) }`;
      const pair = [daemon(home, recorder), daemon(home, recorder)];
      t.after(() => pair.forEach((d) => d.child.kill('SIGKILL')));
      const first = await raceTimeout(Promise.race(pair.map(async (d) => (await d.exited, d))), 20_000);
      if (!first) {
        for (const d of pair) d.child.kill('SIGKILL');
        assert.fail('neither daemon refused to start within 20 s');
      }
      const loser = await first.exited;
      const winner = pair.find((d) => d !== first)!;
      await winner.listening();
      assert.equal(loser.code, 1, loser.stderr);
      assert.match(loser.stderr, /a daemon is already running|another daemon is starting/);
      assert.deepEqual(fs.readFileSync(marker, 'utf8').trim().split('\n'), [String(winner.child.pid)], 'only the winner started its plugins');
      winner.child.kill('SIGTERM');
      await winner.exited;
    }
  });
});
