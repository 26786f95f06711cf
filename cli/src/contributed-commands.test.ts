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

  /** The program for `argv` while a stand-in daemon answers /contributions with `commands`. */
  const programWith = (commands: ContributedCommand[], argv: string[]) =>
    withUnixServer(
      daemonSocketPath(home),
      (request, response) => {
        response.writeHead(request.url === '/contributions' ? 200 : 404, { 'content-type': 'application/json' });
        response.end(JSON.stringify(request.url === '/contributions' ? { commands, pages: [] } : { error: { code: 'not_found', message: 'no' } }));
      },
      () => createProgram(argv),
    );

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
      (_request, response) => {
        asked++;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ commands: [], pages: [] }));
      },
      async () => {
        await createProgram(['ls']);
        await createProgram(['--version']);
        assert.equal(asked, 0);
        await createProgram(['hello']);
        assert.equal(asked, 1);
      },
    );
  });
});
