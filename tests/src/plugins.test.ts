import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { contributionEndpoints, raceTimeout } from '@codepiper/sdk';
import { eventEndpoints } from '@codepiper/events-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { startTestDaemon, waitFor } from '@codepiper/sdk/testing';
import { cliPath, repoRoot, TestDaemon } from './harness.js';

const fixture = (name: string): string => path.join(repoRoot, 'tests', 'fixtures', 'plugins', name);

describe('third-party plugins in a real daemon', () => {
  it('logs a plugin’s throwing event handlers and carries on', async (t) => {
    const daemon = await startTestDaemon({ plugins: [fixture('clumsy.mjs')], cli: cliPath });
    t.after(() => daemon.stop());
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: os.tmpdir(), args: ['sh', '-c', 'read answer; exit 4'] } });
    await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'bye' } });

    const exited = await waitFor('the exit to be recorded', async () => {
      const shown = await daemon.client.call(sessionEndpoints.show, { params: { id: session.id } });
      return shown.status === 'exited' && shown;
    });
    assert.equal(exited.exitCode, 4);
    // The record says exited first; the events follow once the tmux session is gone.
    const types = await waitFor('session.exited to be stored', async () => {
      const { events } = await daemon.client.call(eventEndpoints.list, { query: { session: session.id } });
      return events.some((e) => e.type === 'session.exited') && events.map((e) => e.type);
    });
    // Every event was stored despite the handlers: the writer never saw their failures.
    assert.deepEqual(types, ['session.started', 'session.status', 'session.status', 'session.exited']);

    const errors = await waitFor('the failures in the log', () => {
      const lines = daemon.logs().filter((line) => line.level === 50);
      return lines.some((line) => /unhandled rejection: async subscriber cannot handle session\.exited/.test(String(line.msg))) && lines;
    });
    assert.ok(errors.some((line) => line.plugin === 'clumsy' && line.hook === 'events.appended' && line.msg === 'hook tap failed: tap cannot handle session.exited'));
    assert.ok(errors.some((line) => line.msg === 'event subscriber failed' && (line.err as { message: string }).message === 'subscriber cannot handle session.exited'));
    assert.equal((await daemon.cli(['daemon', 'status'])).code, 0);
  });

  it('a stopped daemon exits even when a plugin left a child process running, and names what held it', async (t) => {
    const daemon = new TestDaemon();
    writeFileSync(path.join(daemon.home, 'config.yaml'), `plugins:\n  - ${fixture('leaky.mjs')}\n`);
    t.after(() => daemon.dispose());
    await daemon.start();
    const child = daemon.process!;
    const leaked = Number(readFileSync(path.join(daemon.home, 'leaky.pid'), 'utf8'));
    t.after(() => process.kill(leaked, 'SIGKILL'));

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await raceTimeout(exited, 15_000, 'still running after 15 s'), 0, daemon.output);
    assert.match(daemon.output, /codepiper daemon: stopped, but still held open by .*ProcessWrap.*; exiting/);
  });

  it('refuses to start when a listed plugin fails to start, naming it and its file', async () => {
    await assert.rejects(startTestDaemon({ plugins: [fixture('doomed.mjs')], cli: cliPath }), (error: Error) => {
      assert.match(error.message, /^the daemon exited during start-up \(code 1\):/);
      assert.ok(error.message.includes(`codepiper daemon: plugin "doomed" (${fixture('doomed.mjs')}) failed to start: the license server is unreachable`), error.message);
      return true;
    });
  });

  it('a plugin packed as a tarball and installed with npm into the home, listed by its package name, adds its provider, commands and page', async (t) => {
    // As a user gets it: `npm pack` of the example and of the plugin API and the sessions contract it needs as peers, installed where the daemon looks.
    const packs = mkdtempSync(path.join(os.tmpdir(), 'cp-packs-'));
    t.after(() => rmSync(packs, { recursive: true, force: true }));
    const pack = (dir: string): string => execFileSync('pnpm', ['pack', '--pack-destination', packs], { cwd: path.join(repoRoot, dir), encoding: 'utf8' }).trim().split('\n').at(-1)!;
    const tarballs = [pack('sdk'), pack(path.join('plugins', 'sessions', 'contract')), pack(path.join('examples', 'provider-parrot'))];
    const daemon = new TestDaemon();
    t.after(() => daemon.dispose());
    execFileSync('npm', ['install', '--prefix', daemon.home, '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', ...tarballs], { stdio: 'pipe' });
    writeFileSync(path.join(daemon.home, 'config.yaml'), 'plugins:\n  - codepiper-plugin-parrot\n');
    await daemon.start();

    const started = await daemon.cli(['start', '-p', 'parrot', '-d', os.tmpdir(), '-n', 'packed', '--loud', '--json']);
    assert.equal(started.code, 0, started.stderr);
    assert.ok((JSON.parse(started.stdout) as SessionRecord).command.includes('--loud'));
    const listed = await daemon.cli(['parrots', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { parrots: { name: string; loud: boolean }[] }).parrots.map((p) => [p.name, p.loud]), [['packed', true]]);
    const { pages } = await daemon.client.call(contributionEndpoints.list);
    assert.deepEqual(pages.map((p) => [p.plugin, p.title, p.url]), [['provider-parrot', 'Parrots', '/parrots']]);
  });

  it('a plugin disabled in config.yaml is absent from the API, the CLI’s help and its commands; one others need cannot be', async (t) => {
    const daemon = new TestDaemon();
    t.after(() => daemon.dispose());
    writeFileSync(path.join(daemon.home, 'config.yaml'), 'disabled_plugins: [workflows, notifications]\n');
    await daemon.start();
    const status = await daemon.cli(['daemon', 'status', '--json']);
    const loaded = (JSON.parse(status.stdout) as { plugins: { name: string }[] }).plugins.map((p) => p.name);
    assert.ok(loaded.includes('sessions') && !loaded.includes('workflows') && !loaded.includes('notifications'), loaded.join(', '));

    const help = await daemon.cli(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^ {2}ls\b/m);
    assert.match(help.stdout, /^ {2}policy\b/m);
    assert.doesNotMatch(help.stdout, /^ {2}(workflow|notifications)\b/m);

    const runs = await daemon.cli(['workflow', 'list']);
    assert.equal(runs.code, 1);
    assert.match(runs.stderr, /^codepiper: this daemon has not loaded the workflows plugin \(see disabled_plugins in its config\.yaml\)$/m);
    const push = await daemon.cli(['notifications', 'status']);
    assert.match(push.stderr, /has not loaded the notifications plugin/);
    // A 404 of a loaded plugin is still its own answer.
    const show = await daemon.cli(['policy', 'show', 'no-such-policy']);
    assert.equal(show.code, 1);
    assert.doesNotMatch(show.stderr, /has not loaded/);
    await daemon.stop();

    writeFileSync(path.join(daemon.home, 'config.yaml'), 'disabled_plugins: [audit]\n');
    const refused = await daemon.cli(['daemon']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /plugin "policies" uses service "audit\.log" \(.*\), which no installed plugin provides/);
  });
});
