import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { localPlace } from './local-place.js';

function place(t: { after(fn: () => unknown): void }) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'local-place-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const paths = { home, socket: path.join(home, 'daemon.sock'), agentSocket: path.join(home, 'run', 'agents.sock'), logs: path.join(home, 'logs'), run: path.join(home, 'run'), pluginData: (plugin: string) => path.join(home, 'plugins', plugin) };
  return { home, here: localPlace(paths, os.homedir()) };
}

const NOT_IDS = ['', '.', '..', '../..', '../../etc', 'a/b', `${randomUUID()}/..`, `${randomUUID()} `, '*'];

describe('this machine as a place sessions run', () => {
  it('gives each plugin a directory per session, and removes all of a session’s with it', async (t) => {
    const { home, here } = place(t);
    const [id, other] = [randomUUID(), randomUUID()];
    const dirs = ['provider-claude-code', 'provider-codex'].map((plugin) => here.sessionDir(plugin, id));
    assert.deepEqual(dirs, [path.join(home, 'plugins', 'provider-claude-code', id), path.join(home, 'plugins', 'provider-codex', id)]);
    const kept = here.sessionDir('provider-claude-code', other);
    for (const dir of [...dirs, kept]) mkdirSync(path.join(dir, 'inside'), { recursive: true });

    await here.removeSessionDirs(id);
    assert.deepEqual(dirs.map(existsSync), [false, false]);
    assert.ok(existsSync(path.join(kept, 'inside')), 'another session’s directory stays');
  });

  it('refuses what is not a session id: no path outside a plugin’s directory, nothing removed', async (t) => {
    const { home, here } = place(t);
    mkdirSync(path.join(home, 'plugins', 'sessions'), { recursive: true });
    for (const bad of NOT_IDS) {
      assert.throws(() => here.sessionDir('provider-codex', bad), /unexpected session id/, bad);
      await assert.rejects(here.removeSessionDirs(bad), /unexpected session id/, bad);
    }
    assert.ok(existsSync(path.join(home, 'plugins', 'sessions')));
  });
});
