import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './testing.js';

const index = path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.js');

/** Runs `runDaemon` in a child process with one plugin whose event handler throws. */
function daemon(home: string) {
  const script = `
    import { runDaemon } from ${JSON.stringify(index)};
    const plugin = { name: 'flaky', contract: 1, description: 'Throws from a timer', register: () => ({
      start: () => void setTimeout(() => { throw new Error('stray handler error'); }, 1),
    }) };
    await runDaemon({ plugins: [plugin], foreground: true });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, CODEPIPER_HOME: home } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  const listening = async (): Promise<void> => {
    while (!stderr.includes('listening on')) await once(child.stderr, 'data');
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
  });
});
