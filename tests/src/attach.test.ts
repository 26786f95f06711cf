import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { cliPath, TestDaemon, waitFor } from './harness.js';

/** `codepiper attach` needs a terminal: it runs inside a pane of a separate, outer tmux server. */
let daemon: TestDaemon;
let workdir: string;
let outerSocket: string;

before(async () => {
  daemon = await TestDaemon.start();
  workdir = mkdtempSync('/tmp/cpt-work-');
  outerSocket = path.join(workdir, 'outer.sock');
});
after(async () => {
  spawnSync('tmux', ['-S', outerSocket, 'kill-server']);
  await daemon.dispose();
  rmSync(workdir, { recursive: true, force: true });
});

const outer = (...args: string[]) => spawnSync('tmux', ['-f', '/dev/null', '-S', outerSocket, ...args], { encoding: 'utf8', env: daemon.env });

test('attach opens a real tmux client on the session; detaching leaves it running', async () => {
  const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: workdir, args: ['cat'] } });
  await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'visible through attach' } });

  outer('new-session', '-d', '-s', 'outer', '-x', '120', '-y', '40', process.execPath, cliPath, 'attach', session.id.slice(0, 8));
  const screen = () => outer('capture-pane', '-p', '-t', 'outer').stdout;
  await waitFor('the attached client to show the session', () => screen().includes('visible through attach'));

  // Typing in the attached client reaches the session.
  outer('send-keys', '-t', 'outer', '-l', 'typed in the client');
  outer('send-keys', '-t', 'outer', 'Enter');
  await waitFor('the input to echo', async () => (await daemon.client.call(sessionEndpoints.screen, { params: { id: session.id } })).text.split('typed in the client').length === 3);

  // Detach (prefix d): the client exits, the session stays.
  outer('send-keys', '-t', 'outer', 'C-b', 'd');
  await waitFor('the client to detach', () => outer('has-session', '-t', 'outer').status !== 0);
  assert.equal((await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).status, 'running');
});
