import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CODEPIPER_VERSION } from '@codepiper/sdk';
import { repoRoot, waitFor, type CliResult } from './harness.js';

/**
 * The package a user installs: packed from this checkout, installed with npm
 * into an empty prefix, and used from outside the repository.
 */
describe('the installable package', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'cp-package-'));
  const prefix = path.join(scratch, 'prefix');
  const home = path.join(scratch, 'home');
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}`, CODEPIPER_HOME: home };
  delete env.TMUX;
  // Run as `codepiper` from PATH, in a directory that is not the repository.
  const codepiper = (args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      const result = spawnSync('codepiper', args, { env, cwd: scratch, encoding: 'utf8', timeout: 60_000 });
      resolve({ code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr });
    });
  let tarball = '';

  before(() => {
    tarball = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'pack.mjs')], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
    // Offline, sqlite3 builds from source against Node's own headers (as scripts/setup.sh does).
    const nodedir = existsSync('/usr/include/node/node.h') && !process.env.npm_config_nodedir ? { npm_config_nodedir: '/usr' } : {};
    execFileSync('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { env: { ...process.env, ...nodedir }, cwd: scratch, stdio: 'pipe', timeout: 12 * 60_000 });
  });
  after(async () => {
    await codepiper(['daemon', 'stop']);
    spawnSync('tmux', ['-S', path.join(home, 'plugins', 'sessions', 'tmux.sock'), 'kill-server']);
    rmSync(scratch, { recursive: true, force: true });
  });

  test('is one package named codepiper: what cannot be bundled a real dependency, the rest bundled with its license, no workspace links', () => {
    assert.match(path.basename(tarball), new RegExp(`^codepiper-${CODEPIPER_VERSION.replaceAll('.', '\\.')}\\.tgz$`));
    const manifest = JSON.parse(readFileSync(path.join(prefix, 'lib', 'node_modules', 'codepiper', 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    assert.equal(manifest.name, 'codepiper');
    assert.deepEqual(Object.entries(manifest.dependencies).filter(([name, range]) => name.startsWith('@codepiper/') || range.startsWith('workspace:')), []);
    assert.ok('sqlite3' in manifest.dependencies, 'sqlite3 (a native addon) is installed as a package');
    assert.ok(!('fastify' in manifest.dependencies), 'fastify is bundled');
    assert.match(readFileSync(path.join(prefix, 'lib', 'node_modules', 'codepiper', 'THIRD_PARTY_LICENSES.md'), 'utf8'), /^## fastify \d+\.\d+\.\d+ \(MIT\)\n\nMIT License/m);
  });

  test('works from any directory: version, doctor, daemon with the dashboard, start, output, stop', async () => {
    assert.equal((await codepiper(['--version'])).stdout.trim(), CODEPIPER_VERSION);
    const doctor = await codepiper(['doctor', '--json']);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; level: string }[] }).checks;
    for (const name of ['node', 'tmux']) assert.equal(checks.find((c) => c.name === name)?.level, 'ok', `doctor: ${name}`);

    const started = await codepiper(['daemon', '--detach', '--web', '--port', '0']);
    assert.equal(started.code, 0, started.stderr);
    const web = /web (http:\/\/127\.0\.0\.1:\d+)/.exec(started.stdout)?.[1];
    assert.ok(web, started.stdout);
    const page = await fetch(`${web}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>CodePiper<\/title>/);
    const running = JSON.parse((await codepiper(['doctor', '--json'])).stdout) as { ok: boolean; checks: { name: string; level: string }[] };
    assert.equal(running.checks.find((c) => c.name === 'daemon')?.level, 'ok');

    const session = await codepiper(['start', '-p', 'shell', '-d', scratch, '--json', '--', 'sh', '-c', 'echo from the package; sleep 60']);
    assert.equal(session.code, 0, session.stderr);
    const { id } = JSON.parse(session.stdout) as { id: string };
    await waitFor('the output', async () => (await codepiper(['output', id])).stdout.includes('from the package'));
    const stopped = await codepiper(['stop', id]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal((await codepiper(['daemon', 'stop'])).code, 0);
  });
});

