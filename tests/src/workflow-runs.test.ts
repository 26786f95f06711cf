import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { listProcesses } from '@codepiper/sdk/testing';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { workflowRunEndpoints, type WorkflowRunDetail } from '@codepiper/workflows-contract';
import { suiteDaemon, waitFor, type TestDaemon } from './harness.js';

/** Writes a workflow file into `dir`; returns its path. */
function workflowFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Pids of the processes whose command line contains `text`. */
const processesWith = (text: string): number[] => listProcesses().flatMap((p) => (p.command.includes(text) ? [p.pid] : []));

/** pid, parent, process group, state and command line of the processes whose command line contains one of `texts`: what a failure shows. */
const processTable = (...texts: string[]): string =>
  listProcesses()
    .filter((p) => texts.some((text) => p.command.includes(text)))
    .map((p) => `pid ${p.pid} ppid ${p.parent} pgid ${p.group} ${p.state}: ${p.command.slice(0, 120)}`)
    .join('\n');

const show = (daemon: TestDaemon, id: string): Promise<WorkflowRunDetail> => daemon.client.call(workflowRunEndpoints.show, { params: { id } });
/** Starts a run in the background (`workflow run --detach`); resolves with its id. */
async function runDetached(daemon: TestDaemon, file: string): Promise<string> {
  const started = await daemon.cli(['workflow', 'run', file, '--detach', '--json']);
  assert.equal(started.code, 0, started.stderr);
  return (JSON.parse(started.stdout) as { id: string }).id;
}
const finished = (daemon: TestDaemon, id: string): Promise<WorkflowRunDetail> =>
  waitFor('the run to finish', async () => {
    const r = await show(daemon, id);
    return r.status === 'running' ? undefined : r;
  }, 30_000);
const latestRun = async (daemon: TestDaemon) => (await daemon.client.call(workflowRunEndpoints.list, { query: { limit: 1 } })).runs[0];
const stepOf = (run: WorkflowRunDetail, key: string) => run.steps.find((s) => s.key === key);

/** A claude that never gets ready: a session step's first prompt waits for it (for 40 s), a window to kill the daemon in. */
const NEVER_READY_CLAUDE = path.join(mkdtempSync('/tmp/cpt-never-ready-'), 'claude');
writeFileSync(NEVER_READY_CLAUDE, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });

describe('workflow runs through the CLI and a real daemon (shell steps and shell sessions)', { timeout: 180_000 }, () => {
  const suite = suiteDaemon({ WF_DAEMON_ONLY: 'from the daemon', CODEPIPER_CLAUDE_BIN: NEVER_READY_CLAUDE });
  after(() => rmSync(path.dirname(NEVER_READY_CLAUDE), { recursive: true, force: true }));

  test('runs every kind of step, shows them live and passes values from step to step', async () => {
    const { daemon, workdir } = suite;
    const file = workflowFile(
      workdir,
      'kinds',
      `name: kinds
vars:
  greeting: hello
  who: nobody
steps:
  - type: shell
    id: list
    command: "printf 'alpha\\nbeta\\n'"
  - type: foreach
    id: each
    items: \${list.output}
    as: item
    steps:
      - type: shell
        id: upper
        command: ["sh", "-c", "printf %s \\"$1\\" | tr a-z A-Z", "upper", "\${item}"]
  - type: shell
    id: failing
    command: "echo broken >&2; exit 3"
    on_error: continue
  - type: if
    id: check
    condition: "\${failing.exit_code} == 3 and \${failing.stderr} contains 'broken'"
    then:
      - type: set
        vars: { who: "\${vars.greeting} \${env.WF_FROM_CLI}" }
    else:
      - type: set
        vars: { who: "wrong branch" }
  - type: shell
    id: daemon-env
    command: ["sh", "-c", "printf %s \\"$WF_DAEMON_ONLY\\""]
  - type: log
    message: "who=\${vars.who} each=\${each.results} daemon=\${daemon-env.result}"
`,
    );
    const result = await daemon.cli(['workflow', 'run', file, '--var', 'greeting=hi'], { env: { WF_FROM_CLI: 'from the shell' } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /run [0-9a-f]{8} kinds: running$/);
    assert.match(lines.at(-1) ?? '', /run [0-9a-f]{8} kinds: succeeded$/);
    assert.ok(lines.some((l) => /steps\[2\] failing \(shell\): failed: exited with code 3$/.test(l)), result.stdout);
    assert.ok(lines.some((l) => l.endsWith('who=hi from the shell each=["ALPHA","BETA"] daemon=from the daemon')), result.stdout);

    const run = await show(daemon, (await latestRun(daemon))?.id ?? '');
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(run.vars, { greeting: 'hi' }, 'the --var values, as given');
    assert.deepEqual(stepOf(run, 'steps[1].steps[0]#1')?.outputs.result, 'BETA');
    assert.equal(stepOf(run, 'steps[3]')?.outputs.branch, 'then');
    assert.equal(stepOf(run, 'steps[3].else[0]'), undefined, 'the branch not taken never ran');
    assert.equal(stepOf(run, 'steps[2]')?.outputs.exit_code, 3);

    const status = await daemon.cli(['workflow', 'status', run.id.slice(0, 6)]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /status: +succeeded/);
    assert.match(status.stdout, /steps\[2\] +failing +shell +failed +1 +- +exited with code 3/);
    const logs = await daemon.cli(['workflow', 'logs', run.id.slice(0, 6)]);
    assert.equal(logs.stdout, result.stdout, 'logs replay what the run showed');
  });

  test('a failing step fails the run, after its retries, naming the step; a timeout is a failure', async () => {
    const { daemon, workdir } = suite;
    const counter = path.join(workdir, 'attempts');
    const file = workflowFile(
      workdir,
      'retries',
      `name: retries
steps:
  - type: shell
    id: flaky
    command: ["sh", "-c", "echo x >> '${counter}'; test $(wc -l < '${counter}') -ge 3"]
    retry: { count: 2, delay: 100ms }
  - type: shell
    id: slow
    command: "sleep 30"
    timeout: 1s
  - type: log
    message: never
`,
    );
    const result = await daemon.cli(['workflow', 'run', file]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /steps\[0\]: attempt 1 of 3: exited with code 1; trying again in 100ms/);
    assert.match(result.stdout, /steps\[0\] flaky \(shell\): succeeded \[attempt 3\]/);
    assert.match(result.stdout, /run [0-9a-f]{8} retries: failed: steps\[1\] \(slow\) timed out after 1s\n$/);
    assert.equal(readFileSync(counter, 'utf8'), 'x\nx\nx\n');
    const run = await show(daemon, (await latestRun(daemon))?.id ?? '');
    assert.deepEqual(
      run.steps.map((s) => [s.key, s.status, s.attempt]),
      [
        ['steps[0]', 'succeeded', 3],
        ['steps[1]', 'failed', 1],
      ],
    );
  });

  test('parallel waits for all branches, or takes the first and cancels the rest with their sessions', async () => {
    const { daemon, workdir } = suite;
    const file = workflowFile(
      workdir,
      'parallel',
      `name: parallel
steps:
  - type: parallel
    id: both
    steps:
      - type: shell
        id: a
        command: "sleep 0.5; echo A"
      - type: shell
        id: b
        command: "echo B"
  - type: parallel
    id: race
    mode: first
    steps:
      - type: shell
        id: quick
        command: "echo quick"
      - type: session
        id: sleeper
        provider: shell
        args: ["sleep", "300"]
        wait: exit
  - type: log
    message: "both=\${both.results} race=\${race.result}"
`,
    );
    const result = await daemon.cli(['workflow', 'run', file]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, / race=quick\n/);
    const run = await show(daemon, (await latestRun(daemon))?.id ?? '');
    assert.deepEqual(stepOf(run, 'steps[0]')?.outputs.results, { a: 'A', b: 'B' });
    const sleeper = stepOf(run, 'steps[1].steps[1]');
    assert.equal(sleeper?.status, 'cancelled');
    assert.ok(sleeper?.sessionId);
    const session = await daemon.client.call(sessionEndpoints.show, { params: { id: sleeper.sessionId } });
    assert.ok(['exited', 'crashed'].includes(session.status), `the losing branch's session was stopped (${session.status})`);
  });

  test('cancel stops the run and every session it started', async () => {
    const { daemon, workdir } = suite;
    const file = workflowFile(
      workdir,
      'cancel',
      `name: cancel
steps:
  - type: session
    id: left-running
    provider: shell
    args: ["sleep", "300"]
  - type: session
    id: waiting
    provider: shell
    args: ["sleep", "300"]
    wait: exit
`,
    );
    const id = await runDetached(daemon, file);
    const run = await waitFor('the second session to start', async () => {
      const r = await show(daemon, id);
      return stepOf(r, 'steps[1]')?.sessionId ? r : undefined;
    });
    const cancelled = await daemon.cli(['workflow', 'cancel', id.slice(0, 8)]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout, `cancelled run ${id.slice(0, 8)} of cancel\n`);
    const after = await show(daemon, id);
    assert.equal(after.status, 'cancelled');
    assert.equal(stepOf(after, 'steps[1]')?.status, 'cancelled');
    for (const step of run.steps) {
      const session = await daemon.client.call(sessionEndpoints.show, { params: { id: step.sessionId ?? '' } });
      assert.ok(['exited', 'crashed'].includes(session.status), `${step.key}'s session is stopped (${session.status})`);
    }
    const again = await daemon.cli(['workflow', 'cancel', id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /has already cancelled/);
  });

  test('a run goes on after the daemon is killed mid-step, with the same session', async () => {
    const { daemon, workdir } = suite;
    const out = path.join(workdir, 'answer.txt');
    const file = workflowFile(
      workdir,
      'survive',
      `name: survive
steps:
  - type: session
    id: asker
    provider: shell
    args: ["sh", "-c", "read answer; printf %s \\"$answer\\" > '${out}'"]
    wait: exit
  - type: shell
    id: after
    command: ["cat", "${out}"]
`,
    );
    const id = await runDetached(daemon, file);
    const sessionId = await waitFor('the session to start', async () => stepOf(await show(daemon, id), 'steps[0]')?.sessionId ?? undefined);
    // Killed once its program runs: a kill while it is still `starting` is the next test's case.
    await waitFor('the session to run', async () => {
      const { status } = await daemon.client.call(sessionEndpoints.show, { params: { id: sessionId } });
      return status !== 'starting' || undefined;
    });
    await daemon.crash();
    await daemon.start();
    const send = await daemon.cli(['send', sessionId.slice(0, 8), 'forty-two']);
    assert.equal(send.code, 0, send.stderr);
    const done = await finished(daemon, id);
    assert.equal(done.status, 'succeeded', done.error ?? '');
    assert.equal(stepOf(done, 'steps[0]')?.sessionId, sessionId, 'the step kept its session');
    assert.equal(stepOf(done, 'steps[1]')?.outputs.result, 'forty-two');
    const logs = await daemon.cli(['workflow', 'logs', id]);
    assert.match(logs.stdout, /continues after a daemon restart/);
    const sessions = (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.filter((s) => s.name.startsWith('asker-'));
    assert.equal(sessions.length, 1, 'no second session was started');
  });

  test('a daemon killed while a session step is still starting: the resumed run keeps that session, starts no second', async () => {
    const { daemon, workdir } = suite;
    const file = workflowFile(
      workdir,
      'starting',
      `name: starting
steps:
  - type: session
    id: slowstart
    provider: claude-code
    prompt: hello
`,
    );
    const id = await runDetached(daemon, file);
    const named = async () => (await daemon.client.call(sessionEndpoints.list, { query: {} })).sessions.filter((s) => s.name.startsWith(`slowstart-${id.slice(0, 8)}`));
    await waitFor('the session to be started, its first prompt waiting for Claude', async () => ((await named()).length === 1 ? true : undefined));
    await daemon.crash();
    await daemon.start();
    await waitFor('the run to go on', async () => ((await daemon.cli(['workflow', 'logs', id])).stdout.includes('continues after a daemon restart') ? true : undefined));
    // Time for a second start, were there one.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const sessions = await named();
    assert.equal(sessions.length, 1, 'no second session was started');
    assert.equal(stepOf(await show(daemon, id), 'steps[0]')?.sessionId, sessions[0]?.id);
    // Clean-up: this claude never answers, so the run may have failed already.
    await daemon.cli(['workflow', 'cancel', id]);
  });

  test('a shell step dies with a daemon killed mid-step; the resumed run runs it once more, never twice at once', async () => {
    const { daemon, workdir } = suite;
    const log = path.join(workdir, 'step.log');
    const go = path.join(workdir, `go-${process.pid}-${Date.now()}`);
    const file = workflowFile(
      workdir,
      'once',
      `name: once
steps:
  - type: shell
    id: slow
    command: ["sh", "-c", "echo started >> '${log}'; until [ -e '${go}' ]; do sleep 0.1; done; echo finished >> '${log}'"]
`,
    );
    const stepAlive = () => processesWith(go).length > 0;
    const id = await runDetached(daemon, file);
    await waitFor('the step to start', () => existsSync(log) || undefined);
    assert.ok(stepAlive());
    await daemon.crash();
    await waitFor('the step’s processes to end with the daemon', () => !stepAlive() || undefined, 10_000).catch((error: Error) => {
      throw new Error(`${error.message}; still running:\n${processTable(go, 'codepiper-step-guard')}`);
    });
    await daemon.start();
    await waitFor('the resumed run to start the step again', () => readFileSync(log, 'utf8') === 'started\nstarted\n' || undefined, 30_000);
    writeFileSync(go, '');
    const done = await finished(daemon, id);
    assert.equal(done.status, 'succeeded', done.error ?? '');
    assert.equal(readFileSync(log, 'utf8'), 'started\nstarted\nfinished\n', 'one run of the step finished');
  });

  test('a shell step whose guard was killed too is ended when the run resumes, before it runs again', async () => {
    const { daemon, workdir } = suite;
    const log = path.join(workdir, 'unguarded.log');
    const go = path.join(workdir, `unguarded-go-${process.pid}-${Date.now()}`);
    const file = workflowFile(
      workdir,
      'unguarded',
      `name: unguarded
steps:
  - type: shell
    id: slow
    command: ["sh", "-c", "echo started >> '${log}'; until [ -e '${go}' ]; do sleep 0.1; done; echo finished >> '${log}'"]
`,
    );
    const id = await runDetached(daemon, file);
    await waitFor('the step to start', () => existsSync(log) || undefined);
    const [first] = processesWith(go);
    assert.ok(first, 'the step runs');
    // What a kill of everything but the step's own session would do (an OOM kill, a careless kill -9).
    const guards = processesWith(`codepiper-step-guard ${first}`);
    assert.equal(guards.length, 1, 'one guard watches the step');
    process.kill(guards[0]!, 'SIGKILL');
    await daemon.crash();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Includes, not equals: the step's sh forks for each `sleep`, and a fork carries sh's command line until it execs.
    assert.ok(processesWith(go).includes(first), 'without its guard the step outlives the daemon');
    await daemon.start();
    await waitFor('the resumed run to start the step again', () => readFileSync(log, 'utf8') === 'started\nstarted\n' || undefined, 30_000);
    assert.ok(!processesWith(go).includes(first), 'the first run of the step was ended before the second started');
    writeFileSync(go, '');
    const done = await finished(daemon, id);
    assert.equal(done.status, 'succeeded', done.error ?? '');
    assert.equal(readFileSync(log, 'utf8'), 'started\nstarted\nfinished\n', 'one run of the step finished');
    const logs = await daemon.cli(['workflow', 'logs', id]);
    assert.match(logs.stdout, /ended the processes an earlier daemon left running/);
  });

  test('bad input: an invalid file, an unknown --var, a malformed --var and a missing file start nothing', async () => {
    const { daemon, workdir } = suite;
    const before = (await daemon.client.call(workflowRunEndpoints.list, { query: {} })).runs.length;
    const invalid = workflowFile(workdir, 'invalid', 'name: invalid\nsteps:\n  - type: shell\n    comand: ["true"]\n');
    const bad = await daemon.cli(['workflow', 'run', invalid]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /invalid\.yaml:4:5: steps\[0\]\.comand: unknown field "comand"/);

    const vars = workflowFile(workdir, 'vars', 'name: vars\nvars:\n  target: x\nsteps:\n  - type: log\n    message: "${vars.target}"\n');
    const unknownVar = await daemon.cli(['workflow', 'run', vars, '--var', 'tagret=y']);
    assert.equal(unknownVar.code, 1);
    assert.match(unknownVar.stderr, /unknown variable tagret: the workflow declares target/);
    const malformed = await daemon.cli(['workflow', 'run', vars, '--var', 'novalue']);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /--var expects NAME=VALUE, got "novalue"/);
    const missing = await daemon.cli(['workflow', 'run', path.join(workdir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such file: .*nope\.yaml/);
    const action = await daemon.cli(['workflow', 'launch', vars]);
    assert.equal(action.code, 2);
    assert.match(action.stderr, /unknown workflow action "launch" \(expected validate, run, list, status, logs, cancel\)/);
    const status = await daemon.cli(['workflow', 'status', 'ffffffff']);
    assert.equal(status.code, 1);
    assert.match(status.stderr, /workflow run "ffffffff" not found/);

    assert.equal((await daemon.client.call(workflowRunEndpoints.list, { query: {} })).runs.length, before, 'no run was created');
  });
});
