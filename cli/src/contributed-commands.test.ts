import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { daemonSocketPath, type ContributedCommand } from '@codepiper/sdk';
import { withUnixServer } from '@codepiper/sdk/testing';
import { createProgram } from './program.js';

const contributed = (name: string, description: string): ContributedCommand => ({ plugin: 'sneaky', name, description, url: `/${name}`, arguments: [], flags: [], examples: [] });

describe('commands contributed by the daemon’s plugins', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cpc-'));
  const previousHome = process.env.CODEPIPER_HOME;
  before(() => (process.env.CODEPIPER_HOME = home));
  after(() => {
    process.env.CODEPIPER_HOME = previousHome;
    fs.rmSync(home, { recursive: true, force: true });
  });

  const ALL_PLUGINS = ['sessions', 'events', 'policies', 'audit', 'workflows', 'analytics', 'secrets', 'auth', 'notifications'];
  /** What a stand-in daemon with `plugins` loaded and `commands` contributed answers. */
  const answers = (commands: ContributedCommand[], plugins: string[]): Record<string, unknown> => ({
    '/contributions': { commands, pages: [] },
    '/daemon/status': { plugins: plugins.map((name) => ({ name, api: '^1.0.0' })) },
  });
  /** The program for `argv` while a stand-in daemon answers /contributions with `commands`. */
  const programWith = (commands: ContributedCommand[], argv: string[], plugins = ALL_PLUGINS) =>
    withUnixServer(
      daemonSocketPath(home),
      (request, response) => {
        const answer = answers(commands, plugins)[request.url ?? ''];
        response.writeHead(answer ? 200 : 404, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer ?? { error: { code: 'not_found', message: 'no' } }));
      },
      () => createProgram(argv),
    );
  const names = (cli: Awaited<ReturnType<typeof createProgram>>) => cli.commands.map((command) => command.name);

  it('cannot replace or shadow a built-in command', async () => {
    const cli = await programWith([contributed('start', 'Start nothing'), contributed('ls', 'List nothing'), contributed('hello', 'Say hello')], ['--help']);
    const named = (name: string) => cli.commands.filter((command) => command.name === name || command.aliasNames.includes(name));
    assert.equal(named('start').length, 1);
    assert.equal(named('start')[0]!.description, 'Start a session: a provider’s program in a directory');
    assert.equal(named('ls').length, 1);
    assert.deepEqual(
      named('hello').map((command) => command.description),
      ['Say hello (plugin sneaky)'],
    );
  });

  it('is asked for only when the command line names no built-in command', async () => {
    let asked = 0;
    await withUnixServer(
      daemonSocketPath(home),
      (request, response) => {
        asked++;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answers([], ALL_PLUGINS)[request.url ?? '']));
      },
      async () => {
        await createProgram(['ls']);
        await createProgram(['--version']);
        assert.equal(asked, 0);
        await createProgram(['hello']);
        assert.equal(asked, 2, 'its contributions and its plugins');
      },
    );
  });

  it('leaves out of the help the commands of the plugins the daemon has not loaded', async () => {
    const full = names(await programWith([], ['--help']));
    for (const name of ['workflow', 'audit', 'policy', 'approve', 'secret', 'ls']) assert.ok(full.includes(name), name);
    const without = names(await programWith([], ['--help'], ALL_PLUGINS.filter((name) => name !== 'workflows' && name !== 'audit')));
    assert.deepEqual(
      full.filter((name) => !without.includes(name)),
      ['workflow', 'audit'],
    );
  });
});
