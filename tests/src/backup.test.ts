import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError, daemonEndpoints, databasePath } from '@codepiper/sdk';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon, waitFor } from './harness.js';

const SECRET = 'sekrit-backed-up';

describe('codepiper backup', () => {
  let daemon: TestDaemon;
  let dir: string;

  before(async () => {
    daemon = await TestDaemon.start();
    dir = mkdtempSync('/tmp/cpt-backup-');
  });
  after(async () => {
    await daemon?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (args: string[], options: { input?: string; cwd?: string } = {}) => {
    const result = await daemon.cli(args, options);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  const sqlite = (file: string, sql: string): string => spawnSync('sqlite3', [file, sql], { encoding: 'utf8' }).stdout.trim();

  test('a running daemon writes a consistent, private copy of its database, which restores with the secret key', async () => {
    await cli(['secret', 'set', 'BACKED_UP'], { input: SECRET });
    await cli(['policy', 'create', '--action', 'deny', '--rule', 'Bash(rm:*)', '--name', 'no-rm']);
    const running = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: dir, name: 'before-backup', args: ['cat'] } });

    // A relative path is the caller's, as for any file the CLI is given.
    const backup = path.join(dir, 'codepiper-backup.db');
    assert.deepEqual(JSON.parse(await cli(['backup', 'codepiper-backup.db', '--json'], { cwd: dir })), { path: backup, bytes: statSync(backup).size });
    assert.equal(statSync(backup).mode & 0o777, 0o600);
    assert.equal(sqlite(backup, 'PRAGMA integrity_check'), 'ok');
    assert.equal(sqlite(backup, `SELECT name FROM sessions WHERE id = '${running.id}'`), 'before-backup');

    // Restored into another home beside the secret key, as the README says: the daemon opens it, and the secret decrypts.
    const restored = new TestDaemon();
    try {
      mkdirSync(restored.home, { recursive: true, mode: 0o700 });
      copyFileSync(backup, databasePath(restored.home));
      mkdirSync(path.dirname(restored.secretKey), { recursive: true, mode: 0o700 });
      copyFileSync(daemon.secretKey, restored.secretKey);
      await restored.start();
      const listed = await restored.cli(['ls', '--json']);
      assert.ok((JSON.parse(listed.stdout) as { sessions: { name: string }[] }).sessions.some((s) => s.name === 'before-backup'), listed.stdout);
      assert.match((await restored.cli(['policy', 'list'])).stdout, /no-rm/);
      const reader = await restored.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: dir, args: ['sh', '-c', 'printenv BACKED_UP; sleep 60'], secrets: ['BACKED_UP'] } });
      await waitFor('the restored secret in the session', async () => (await restored.client.call(sessionEndpoints.screen, { params: { id: reader.id } })).text.includes(SECRET) || undefined);
    } finally {
      await restored.dispose();
    }
  });

  test('an existing file, a missing directory or a relative path over the API: a clear error, nothing written or changed', async () => {
    const existing = path.join(dir, 'existing.db');
    await cli(['backup', existing]);
    const before = readFileSync(existing);
    const again = await daemon.cli(['backup', existing]);
    assert.deepEqual([again.code, again.stderr.trim()], [1, `codepiper: ${existing} exists: a backup goes to a new file`]);
    assert.deepEqual(readFileSync(existing), before);

    const nowhere = path.join(dir, 'no-such-dir', 'backup.db');
    const missing = await daemon.cli(['backup', nowhere]);
    assert.deepEqual([missing.code, missing.stderr.trim()], [1, `codepiper: cannot write ${nowhere}: its directory does not exist`]);
    assert.equal(existsSync(path.dirname(nowhere)), false);

    // Over the API, whose caller has no working directory here: an absolute path only.
    const relative = await daemon.client.call(daemonEndpoints.backup, { body: { path: 'relative.db' } }).catch((error: unknown) => error);
    assert.ok(relative instanceof ApiError && relative.status === 400 && relative.code === 'invalid_request', String(relative));
    assert.equal(relative.message, 'the backup\'s path must be absolute, not "relative.db"');

    const usage = await daemon.cli(['backup']);
    assert.deepEqual([usage.code, usage.stderr.trim()], [2, 'codepiper: missing required args for command `backup <file>` (see: codepiper backup --help)']);
  });
});
