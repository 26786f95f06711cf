import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { onlyModelChanged, restoreUserSettings, snapshotUserSettings } from './user-settings.js';

/** What Claude Code writes: the settings with `model` set, as 2-space JSON with a newline. */
const claudeRewrite = (settings: object, model: string) => `${JSON.stringify({ ...settings, model }, null, 2)}\n`;

describe('the user settings around a model switch', () => {
  let dir: string;
  let file: string;
  const userText = '{"apiKeyHelper":"echo k",\t"model": "haiku"}';

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cp-user-settings-'));
    file = path.join(dir, 'settings.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a rewrite that only sets model is put back: same bytes, same mode, no temp file left', async () => {
    writeFileSync(file, userText);
    chmodSync(file, 0o640);
    const snapshot = await snapshotUserSettings(dir);
    writeFileSync(file, claudeRewrite({ apiKeyHelper: 'echo k' }, 'opus'));
    chmodSync(file, 0o600);
    assert.equal(await restoreUserSettings(snapshot), 'restored');
    assert.equal(readFileSync(file, 'utf8'), userText);
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir), ['settings.json']);
  });

  test('a file Claude created is removed; an untouched file is left as it is', async () => {
    const none = await snapshotUserSettings(dir);
    writeFileSync(file, claudeRewrite({}, 'opus'));
    assert.equal(await restoreUserSettings(none), 'restored');
    assert.equal(existsSync(file), false);
    writeFileSync(file, userText);
    assert.equal(await restoreUserSettings(await snapshotUserSettings(dir)), 'unchanged');
  });

  test('another change made meanwhile is left alone', async () => {
    writeFileSync(file, userText);
    const snapshot = await snapshotUserSettings(dir);
    const edited = claudeRewrite({ apiKeyHelper: 'echo k', theme: 'dark' }, 'opus');
    writeFileSync(file, edited);
    assert.equal(await restoreUserSettings(snapshot), 'left: changed otherwise');
    assert.equal(readFileSync(file, 'utf8'), edited);
  });

  test('a symlinked settings.json stays a symlink; its target is put back', async () => {
    const target = path.join(dir, 'real.json');
    writeFileSync(target, userText);
    symlinkSync(target, file);
    const snapshot = await snapshotUserSettings(dir);
    writeFileSync(target, claudeRewrite({ apiKeyHelper: 'echo k' }, 'opus'));
    assert.equal(await restoreUserSettings(snapshot), 'restored');
    assert.ok(lstatSync(file).isSymbolicLink());
    assert.equal(readFileSync(target, 'utf8'), userText);
  });

  test('onlyModelChanged: model set or changed, nothing else', () => {
    const before = Buffer.from(userText);
    assert.equal(onlyModelChanged(before, Buffer.from(claudeRewrite({ apiKeyHelper: 'echo k' }, 'opus'))), true);
    assert.equal(onlyModelChanged(null, Buffer.from(claudeRewrite({}, 'opus'))), true);
    assert.equal(onlyModelChanged(before, Buffer.from('{"apiKeyHelper":"echo k"}')), false, 'model removed');
    assert.equal(onlyModelChanged(before, Buffer.from('not json')), false);
    assert.equal(onlyModelChanged(before, null), false);
  });
});
