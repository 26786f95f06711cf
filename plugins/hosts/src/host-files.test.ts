import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { removeSessionFilesScript, writeFilesScript } from './host-files.js';

describe('the script that removes a session’s files on a host', () => {
  it('removes each plugin’s directory of that session there, and nothing else', (t) => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'host-files-'));
    t.after(() => rmSync(home, { recursive: true, force: true }));
    const [id, other] = [randomUUID(), randomUUID()];
    const kept = (...parts: string[]): string => path.join(home, '.codepiper', ...parts);
    for (const dir of [kept('provider-claude-code', id), kept('provider-codex', id), kept('provider-claude-code', other)]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'hook.sh'), '#!/bin/sh\n');
    }
    writeFileSync(path.join(home, id), 'a file of the same name elsewhere');

    const run = spawnSync('sh', ['-c', removeSessionFilesScript(id)], { env: { HOME: home, PATH: process.env.PATH }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(existsSync(kept('provider-claude-code', id)), false);
    assert.equal(existsSync(kept('provider-codex', id)), false);
    assert.ok(existsSync(path.join(kept('provider-claude-code', other), 'hook.sh')), 'another session’s files stay');
    assert.ok(existsSync(path.join(home, id)));
  });

  it('refuses what is not a session id, before any shell reads it', () => {
    const id = randomUUID();
    for (const bad of ['', '*', '..', '../../..', `${id}/..`, `${id} /`, `${id}*`, '$(touch /tmp/owned)', `${id.slice(0, 35)};`, id.toUpperCase()]) {
      assert.throws(() => removeSessionFilesScript(bad), /unexpected session id/, bad);
    }
  });
});

describe('the script that writes a session’s files on a host', () => {
  it('replaces a file whole: a hook still reading the old script reads it to its end; the new one is private', (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'host-files-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'session', 'hook.sh');
    mkdirSync(path.dirname(script));
    writeFileSync(script, 'the old script\n');
    const reading = openSync(script, 'r');
    t.after(() => closeSync(reading));

    const run = spawnSync('sh', ['-s'], { input: writeFilesScript([{ path: script, content: 'the new script, longer than the old one\n', mode: 0o700 }]), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const buffer = Buffer.alloc(100);
    assert.equal(buffer.subarray(0, readSync(reading, buffer, 0, 100, 0)).toString(), 'the old script\n');
    assert.equal(readFileSync(script, 'utf8'), 'the new script, longer than the old one\n');
    assert.equal(statSync(script).mode & 0o777, 0o700);
    assert.equal(statSync(path.dirname(script)).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(path.dirname(script)), ['hook.sh'], 'nothing left beside it');
  });
});
