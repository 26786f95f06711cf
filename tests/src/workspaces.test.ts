import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import type { EnvSet, Workspace } from '@codepiper/workspaces-contract';
import { suiteDaemon, waitFor } from './harness.js';

describe('workspaces and env sets through the CLI (real daemon, git and tmux)', () => {
  const suite = suiteDaemon();
  let repo: string;
  const cli = (args: string[], input?: string) => suite.daemon.cli(args, input === undefined ? {} : { input });
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await cli([...args, '--json']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };
  /** Starts a session that writes what it sees into `seen.txt` of its directory, and waits for it to end. */
  const startWriting = async (...args: string[]): Promise<SessionRecord> => {
    const started = await cli(['start', ...args, '--json', '--', 'sh', '-c', 'echo "$PWD|${GREETING-}|${LEVEL-}|${API_TOKEN-}" > seen.txt']);
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as SessionRecord;
    await waitFor(`${session.name} to end`, async () => (await suite.daemon.client.call(sessionEndpoints.show, { params: { id: session.id } })).exitCode === 0, 20_000);
    return session;
  };
  const seen = (session: SessionRecord) => readFileSync(path.join(session.cwd, 'seen.txt'), 'utf8').trim();

  before(async () => {
    repo = path.join(suite.workdir, 'api');
    mkdirSync(repo);
    const env = { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' };
    execFileSync('git', ['init', '--quiet', '--initial-branch=main'], { cwd: repo, env });
    writeFileSync(path.join(repo, 'README'), 'api\n');
    execFileSync('git', ['add', '-A'], { cwd: repo, env });
    execFileSync('git', ['commit', '--quiet', '-m', 'first'], { cwd: repo, env });
    assert.equal((await cli(['secret', 'set', 'API_TOKEN'], 'tok-123')).code, 0);
  });

  test('an env set: variables in the open, secrets by name; its values reach a session started with --env-set, --env over them', async () => {
    const set = await json<EnvSet>(['env-set', 'set', 'dev', 'GREETING=hello', 'LEVEL=debug', '--secret', 'API_TOKEN']);
    assert.deepEqual([set.env, set.secrets], [{ GREETING: 'hello', LEVEL: 'debug' }, ['API_TOKEN']]);
    const shown = await cli(['env-set', 'show', 'dev']);
    assert.match(shown.stdout, /^env GREETING: +hello$/m);
    assert.match(shown.stdout, /^secrets: +API_TOKEN$/m);
    assert.doesNotMatch(shown.stdout, /tok-123/, 'a secret’s value is never shown');
    assert.match((await cli(['env-set', 'list'])).stdout, /^dev +GREETING, LEVEL +API_TOKEN$/m);

    const session = await startWriting('-p', 'shell', '-d', suite.workdir, '--env-set', 'dev', '--env', 'LEVEL=trace');
    assert.equal(seen(session), `${suite.workdir}|hello|trace|tok-123`);
  });

  test('a workspace starts sessions with its directory, provider, env set and worktree; update changes them', async () => {
    const added = await cli(['workspace', 'add', 'api', repo, '--provider', 'shell', '--env-set', 'dev', '--worktree']);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, `added workspace api (${repo})\n`);
    assert.match((await cli(['workspace', 'list'])).stdout, new RegExp(`^api +shell +dev +- +yes +${repo}$`, 'm'));

    const inTree = await startWriting('-w', 'api');
    assert.equal(inTree.provider, 'shell');
    assert.match(inTree.cwd, /\/plugins\/worktrees\/api-[0-9a-f]{8}$/, 'a worktree of its own');
    assert.equal(seen(inTree), `${inTree.cwd}|hello|debug|tok-123`);
    assert.equal(readFileSync(path.join(repo, 'README'), 'utf8'), 'api\n');

    const updated = await json<Workspace>(['workspace', 'update', 'api', '--no-worktree', '--env-set', 'none']);
    assert.deepEqual([updated.worktree, updated.envSet], [false, null]);
    const plain = await startWriting('-w', 'api', '--env', 'GREETING=hi');
    assert.equal(seen(plain), `${repo}|hi||`);
  });

  test('refused clearly, nothing saved or started: bad names and directories, unknown providers and sets, a set in use, -w with -d', async () => {
    const expectError = async (args: string[], code: number, message: RegExp) => {
      const result = await cli(args);
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
    };
    await expectError(['workspace', 'add', 'api', repo], 1, /a workspace named "api" exists \(change it with codepiper workspace update api\)/);
    await expectError(['workspace', 'add', 'ghost', path.join(suite.workdir, 'nowhere')], 1, /is not an existing directory/);
    await expectError(['workspace', 'add', 'odd', repo, '--provider', 'nosuch'], 1, /no provider "nosuch" \(installed: .*shell/);
    await expectError(['workspace', 'add', 'odd', repo, '--env-set', 'nosuch'], 1, /no env set named "nosuch" \(see: codepiper env-set list\)/);
    await expectError(['workspace', 'add', '../escape', repo], 1, /name/);
    await expectError(['workspace', 'add', 'only-name'], 2, /workspace add needs a NAME and a DIR/);
    await expectError(['workspace', 'update', 'api'], 2, /needs something to change/);
    await expectError(['env-set', 'set', 'bad', '1X=y'], 2, /1X/);
    assert.equal((await cli(['workspace', 'update', 'api', '--env-set', 'dev'])).code, 0);
    await expectError(['env-set', 'rm', 'dev'], 1, /env set "dev" is used by workspace api: change or remove those first/);
    await expectError(['start', '-w', 'api', '-d', repo], 2, /-w and -d go apart/);
    await expectError(['start', '-w', 'nosuch'], 1, /no workspace named "nosuch" \(see: codepiper workspace list\)/);
    const names = (await json<{ workspaces: Workspace[] }>(['workspace', 'list'])).workspaces.map((w) => w.name);
    assert.deepEqual(names, ['api'], 'nothing refused was saved');

    assert.equal((await cli(['workspace', 'rm', 'api'])).code, 0);
    assert.equal((await cli(['env-set', 'rm', 'dev'])).code, 0, 'unused now, it goes');
    assert.equal((await cli(['workspace', 'list'])).stdout, 'no workspaces (add one: codepiper workspace add NAME DIR)\n');
  });
});
