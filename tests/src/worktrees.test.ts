import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ApiError, databasePath } from '@codepiper/sdk';
import { eventEndpoints } from '@codepiper/events-contract';
import { sessionEndpoints, type SessionRecord } from '@codepiper/sessions-contract';
import { worktreeEndpoints, type WorktreeChanges } from '@codepiper/worktrees-contract';
import { suiteDaemon, waitFor } from './harness.js';

/** The user's own git, as a developer runs it in their repository (an identity of their own, none of the daemon's). */
function git(dir: string, ...args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' };
  return execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
}

/** A repository on `main` with one commit holding `shared.txt`. */
function repository(dir: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(path.join(dir, 'shared.txt'), 'one\ntwo\nthree\n');
  git(dir, 'add', 'shared.txt');
  git(dir, 'commit', '--quiet', '-m', 'first');
  return dir;
}

describe('worktrees: a checkout per session, reviewed, merged or discarded (real git, daemon and CLI)', () => {
  const suite = suiteDaemon();
  let repo: string;
  const daemon = () => suite.daemon;

  /** Starts a shell session in a worktree of `repo` that runs `script` and ends. */
  const startIn = async (name: string, script: string, ...flags: string[]): Promise<SessionRecord> => {
    const started = await daemon().cli(['start', '-p', 'shell', '-d', repo, '-n', name, '--worktree', ...flags, '--json', '--', 'sh', '-c', script]);
    assert.equal(started.code, 0, started.stderr);
    return JSON.parse(started.stdout) as SessionRecord;
  };
  const ended = (session: SessionRecord) =>
    waitFor(`${session.name} to end`, async () => (await daemon().client.call(sessionEndpoints.show, { params: { id: session.id } })).exitCode === 0, 20_000);
  const events = async (session: SessionRecord, type: string) =>
    (await daemon().client.call(eventEndpoints.list, { query: { session: session.id, type } })).events.map((event) => event.payload);
  const refusal = async (call: Promise<unknown>): Promise<ApiError> => {
    const error = await call.then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ApiError, `refused: ${String(error)}`);
    return error;
  };

  before(() => {
    repo = repository(path.join(suite.workdir, 'repo'));
  });

  test('two sessions change the same file at once, each in its own worktree and branch; the checkout they came from is untouched', async () => {
    const [left, right] = await Promise.all([
      startIn('left', `sed -i 's/two/two from the left/' shared.txt && echo new > left.txt`),
      startIn('right', `sed -i 's/two/two from the right/' shared.txt`, 'feature/right'),
    ]);
    assert.notEqual(left.cwd, right.cwd);
    for (const session of [left, right]) {
      assert.ok(!session.cwd.startsWith(repo), `${session.name} runs outside the user's checkout: ${session.cwd}`);
      await ended(session);
    }
    assert.equal(readFileSync(path.join(repo, 'shared.txt'), 'utf8'), 'one\ntwo\nthree\n', 'the user’s checkout is as it was');
    assert.equal(git(repo, 'status', '--porcelain'), '');
    assert.equal(readFileSync(path.join(left.cwd, 'shared.txt'), 'utf8'), 'one\ntwo from the left\nthree\n');
    assert.equal(readFileSync(path.join(right.cwd, 'shared.txt'), 'utf8'), 'one\ntwo from the right\nthree\n');
    assert.match(git(repo, 'branch', '--list'), /codepiper\/left[\s\S]*feature\/right/);

    // Reviewed: uncommitted and new files count.
    const stat = await daemon().cli(['diff', 'left', '--stat']);
    assert.equal(stat.code, 0, stat.stderr);
    assert.match(stat.stdout, /^left\.txt +added +\+1 -0$/m);
    assert.match(stat.stdout, /^shared\.txt +modified +\+1 -1$/m);
    assert.match(stat.stdout, /^2 files changed, \+2 -1, 0 commits$/m);
    const patch = await daemon().cli(['diff', 'left']);
    assert.match(patch.stdout, /^-two\n\+two from the left$/m);
    const shown = await daemon().cli(['show', 'left']);
    assert.match(shown.stdout, /^branch: +codepiper\/left, from main at [0-9a-f]{10}$/m);
    assert.match(shown.stdout, /^changes: +2 files changed, \+2 -1, 0 commits$/m);
    // Told once it ended: what a workflow or a notification waits for.
    assert.deepEqual(await waitFor('git.changed', async () => (await events(left, 'git.changed')).at(0)), { files: 2, added: 2, removed: 1 });

    // The first merges; the second now conflicts on the same line, and nothing moves.
    const merged = await daemon().cli(['merge', 'left']);
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, /^merged codepiper\/left into main \([0-9a-f]{10}\)$/m);
    assert.equal(readFileSync(path.join(repo, 'shared.txt'), 'utf8'), 'one\ntwo from the left\nthree\n', 'the checkout on main follows the merge');
    assert.ok(existsSync(path.join(repo, 'left.txt')));
    assert.match(git(repo, 'log', '--format=%s', '-3'), /^Merge the work of session left \(codepiper\/left\)\nWork of session left, left uncommitted\nfirst\n$/);
    assert.equal((await events(left, 'git.merged')).length, 1);

    const head = git(repo, 'rev-parse', 'main');
    const conflict = await refusal(daemon().client.call(worktreeEndpoints.merge, { params: { id: right.id } }));
    assert.deepEqual([conflict.status, conflict.code, conflict.details?.conflicts], [409, 'merge_conflict', ['shared.txt']]);
    const cli = await daemon().cli(['merge', 'right']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /feature\/right does not merge cleanly into main: shared\.txt changed on both sides; nothing was changed/);
    assert.equal(git(repo, 'rev-parse', 'main'), head, 'main did not move');
    assert.equal(git(repo, 'status', '--porcelain'), '', 'the checkout has no half-merge');
    assert.equal(readFileSync(path.join(right.cwd, 'shared.txt'), 'utf8'), 'one\ntwo from the right\nthree\n', 'the session’s work is kept');
    assert.equal(git(right.cwd, 'status', '--porcelain'), ' M shared.txt\n', 'as it was left: uncommitted, nothing staged');
    assert.equal(git(repo, 'log', '--format=%s', 'feature/right'), 'first\n', 'its branch did not move');

    // Unmerged work is never forgotten by accident; discarding it is a choice.
    const rm = await daemon().cli(['rm', 'right']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /is kept: its worktree \S+ has uncommitted changes: merge it \(codepiper merge [0-9a-f]{8}\) or discard it/);
    const pruned = JSON.parse((await daemon().cli(['prune', '--json'])).stdout) as { removed: SessionRecord[]; kept: { session: SessionRecord }[] };
    assert.deepEqual([pruned.removed.map((s) => s.name), pruned.kept.map((k) => k.session.name)], [['left'], ['right']]);
    await waitFor('the merged worktree to go with its session', async () =>
      (await daemon().client.call(worktreeEndpoints.list)).worktrees.some((w) => w.sessionId === left.id && w.state === 'removed'),
    );
    assert.ok(!existsSync(left.cwd));
    assert.doesNotMatch(git(repo, 'branch', '--list'), /codepiper\/left/);

    const discarded = await daemon().cli(['discard', 'right']);
    assert.equal(discarded.code, 0, discarded.stderr);
    assert.ok(!existsSync(right.cwd), 'the worktree is gone');
    assert.doesNotMatch(git(repo, 'branch', '--list'), /feature\/right/);
    assert.deepEqual(await events(right, 'git.discarded'), [{ branch: 'feature/right' }]);
    assert.equal((await daemon().cli(['rm', 'right'])).code, 0, 'and the session may go now');
  });

  test('a running session’s worktree is not discarded; a merge waits for a clean checkout of the base', async () => {
    const session = await startIn('busy', 'echo more >> shared.txt; exec sleep 600');
    await waitFor('the change', () => readFileSync(path.join(session.cwd, 'shared.txt'), 'utf8').includes('more'));
    const running = await refusal(daemon().client.call(worktreeEndpoints.discard, { params: { id: session.id } }));
    assert.deepEqual([running.status, running.code], [409, 'session_running']);

    writeFileSync(path.join(repo, 'shared.txt'), 'the user is editing\n');
    const dirty = await refusal(daemon().client.call(worktreeEndpoints.merge, { params: { id: session.id } }));
    assert.deepEqual([dirty.status, dirty.code], [409, 'base_not_clean']);
    assert.match(dirty.message, new RegExp(`${repo}, where main is checked out, has uncommitted changes`));
    const { worktree } = await daemon().client.call(worktreeEndpoints.status, { params: { id: session.id } });
    assert.equal(git(session.cwd, 'rev-parse', 'HEAD').trim(), worktree.baseCommit, 'a refused merge committed nothing');
    git(repo, 'checkout', '--', 'shared.txt');

    await daemon().client.call(sessionEndpoints.kill, { params: { id: session.id } });
    assert.equal((await daemon().cli(['discard', 'busy'])).code, 0);
    assert.deepEqual((await daemon().client.call(worktreeEndpoints.status, { params: { id: session.id } })).files, [], 'a discarded worktree has nothing to show');
  });

  test('a diff asked while its worktree is discarded shows the worktree before or after, never a git error; a second discard is refused as one', async () => {
    const session = await startIn('raced', 'echo more >> shared.txt');
    await ended(session);
    const id = { params: { id: session.id } };
    // Phones and browsers keep asking for the diff while the discard runs, as the dashboard does on each event.
    let discarding = true;
    const readers = Array.from({ length: 4 }, async () => {
      const seen: WorktreeChanges[] = [];
      while (discarding) seen.push(await daemon().client.call(worktreeEndpoints.diff, id));
      return seen;
    });
    const discards = await Promise.allSettled([daemon().client.call(worktreeEndpoints.discard, id), daemon().client.call(worktreeEndpoints.discard, id)]);
    discarding = false;
    for (const { worktree, files } of (await Promise.all(readers)).flat()) {
      if (worktree.state === 'active') assert.deepEqual(files.map((f) => f.path), ['shared.txt']);
      else assert.deepEqual([worktree.state, files], ['discarded', []]);
    }
    assert.equal(discards.filter((d) => d.status === 'fulfilled').length, 1, 'one discard did it');
    const second = discards.find((d) => d.status === 'rejected')?.reason as unknown;
    assert.ok(second instanceof ApiError, String(second));
    assert.deepEqual([second.status, second.code], [409, 'worktree_finished']);
    assert.equal((await daemon().client.call(worktreeEndpoints.diff, id)).worktree.state, 'discarded');
  });

  test('a worktree deleted by hand is named as missing, not taken for a missing git', async () => {
    const session = await startIn('deleted', 'echo more >> shared.txt');
    await ended(session);
    rmSync(session.cwd, { recursive: true });
    const diff = await daemon().cli(['diff', 'deleted']);
    assert.equal(diff.code, 1);
    assert.equal(diff.stderr, `codepiper: ${session.cwd} does not exist: git cannot run there\n`);
    assert.equal((await daemon().cli(['discard', 'deleted'])).code, 0, 'and it can still be discarded');
    assert.doesNotMatch(git(repo, 'branch', '--list'), /codepiper\/deleted/);
  });

  test('refused clearly: outside a repository, without a commit, a taken or malformed branch, a session in no worktree', async () => {
    const outside = await daemon().cli(['start', '-p', 'shell', '-d', suite.workdir, '--worktree', '--', 'true']);
    assert.equal(outside.code, 1);
    assert.equal(outside.stderr, `codepiper: ${suite.workdir} is not in a git repository: a worktree is made from one (git init, and a first commit)\n`);

    const empty = path.join(suite.workdir, 'empty');
    mkdirSync(empty);
    git(empty, 'init', '--quiet');
    const bare = await refusal(daemon().client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: empty, worktree: true } }));
    assert.deepEqual([bare.status, bare.code], [400, 'not_a_repository']);
    assert.match(bare.message, /has no commit yet/);

    git(repo, 'branch', 'taken');
    const taken = await refusal(daemon().client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: repo, worktree: 'taken' } }));
    assert.deepEqual([taken.status, taken.code], [409, 'branch_exists']);
    for (const branch of ['../escape', '-rf', 'a..b', 'with space', 'x.lock', '']) {
      const bad = await refusal(daemon().client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: repo, worktree: branch } }));
      assert.deepEqual([bad.status, bad.code], [400, 'invalid_request'], branch);
    }
    const plain = await daemon().client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: repo, args: ['true'] } });
    const none = await daemon().cli(['diff', plain.id.slice(0, 8)]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /does not run in a worktree of its own \(start it with --worktree\)/);
    assert.equal(git(repo, 'worktree', 'list').trim().split('\n').length, 1, 'no refused start left a worktree behind');
  });

  test('a workflow waits for a session’s git.changed and reads its counts', async () => {
    const file = path.join(suite.workdir, 'wait-review.yaml');
    writeFileSync(
      file,
      `name: wait-review\nsteps:\n  - type: session\n    id: writer\n    provider: shell\n    cwd: ${repo}\n    worktree: true\n    args: ["sh", "-c", "printf 'x\\\\ny\\\\n' > added.txt"]\n    wait: { event: git.changed, timeout: 60s }\n  - type: log\n    message: "review: \${writer.result}"\n`,
    );
    const run = await daemon().cli(['workflow', 'run', file]);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /review: \{"files":1,"added":2,"removed":0\}/);
  });

  test('a start that fails after its worktree is made leaves none behind; after a crash, a worktree whose session never got a record goes, unless it holds work', async () => {
    const worktrees = () => git(repo, 'worktree', 'list').trim().split('\n');
    const before = worktrees();
    const failed = await daemon().cli(['start', '-p', 'shell', '-d', repo, '-n', 'never-ran', '--worktree', '--', 'no-such-program-here']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /no-such-program-here/);
    assert.deepEqual(worktrees(), before, 'the worktree made for it was removed');
    assert.equal(git(repo, 'branch', '--list', 'codepiper/never-ran'), '', 'and its branch');
    assert.ok(!(await daemon().client.call(worktreeEndpoints.list)).worktrees.some((w) => w.branch === 'codepiper/never-ran'), 'and its record');

    // The daemon dies between making a session's worktree and recording the session: two such worktrees, one the user has written in since.
    await daemon().crash();
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    const orphan = (name: string, sessionId: string): string => {
      const dir = path.join(suite.workdir, `orphan-${name}`);
      git(repo, 'worktree', 'add', '--quiet', '-b', `codepiper/${name}`, dir, base);
      const row = [sessionId, repo, dir, `codepiper/${name}`, 'main', base, 'active', new Date().toISOString()].map((v) => `'${v}'`).join(', ');
      execFileSync('sqlite3', [databasePath(daemon().home), `INSERT INTO worktrees (session_id, repository, path, branch, base, base_commit, state, created_at) VALUES (${row})`]);
      return dir;
    };
    const clean = orphan('clean-orphan', 'a0000000-0000-4000-8000-000000000001');
    const written = orphan('written-orphan', 'a0000000-0000-4000-8000-000000000002');
    writeFileSync(path.join(written, 'notes.txt'), 'the user wrote here\n');
    await daemon().start();

    assert.ok(!existsSync(clean), 'the clean one is removed');
    assert.equal(git(repo, 'branch', '--list', 'codepiper/clean-orphan'), '');
    assert.equal(readFileSync(path.join(written, 'notes.txt'), 'utf8'), 'the user wrote here\n', 'the one holding work is kept');
    const records = (await daemon().client.call(worktreeEndpoints.list)).worktrees.map((w) => w.branch);
    assert.ok(records.includes('codepiper/written-orphan') && !records.includes('codepiper/clean-orphan'), records.join(', '));
    assert.ok(daemon().logLines('written-orphan').some((line) => line.includes('holds work, so it is kept')), 'the log says where it is');
  });

  test('a workflow’s parallel sessions with worktree: true never share a checkout', async () => {
    const file = path.join(suite.workdir, 'fan-out.yaml');
    writeFileSync(
      file,
      `name: fan-out\nsteps:\n  - type: parallel\n    steps:\n${['a', 'b']
        .map((id) => `      - type: session\n        id: ${id}\n        provider: shell\n        cwd: ${repo}\n        worktree: true\n        args: ["sh", "-c", "echo ${id} > shared.txt"]\n        wait: exit\n`)
        .join('')}`,
    );
    const run = await daemon().cli(['workflow', 'run', file]);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const sessions = (await daemon().client.call(sessionEndpoints.list, { query: {} })).sessions.filter((s) => /^[ab]-/.test(s.name));
    assert.equal(sessions.length, 2);
    const changes = await Promise.all(sessions.map((s) => daemon().client.call(worktreeEndpoints.diff, { params: { id: s.id } }))) as (WorktreeChanges & { patch: string })[];
    for (const [i, session] of sessions.entries()) {
      assert.equal(readFileSync(path.join(session.cwd, 'shared.txt'), 'utf8'), `${session.name.charAt(0)}\n`);
      assert.match(changes[i]!.patch, new RegExp(`^\\+${session.name.charAt(0)}$`, 'm'));
    }
    assert.notEqual(sessions[0]!.cwd, sessions[1]!.cwd);
    assert.equal(readFileSync(path.join(repo, 'shared.txt'), 'utf8'), 'one\ntwo from the left\nthree\n');
  });
});
