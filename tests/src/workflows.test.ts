import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ApiError } from '@codepiper/sdk';
import { workflowEndpoints } from '@codepiper/workflows-contract';
import { repoRoot, suiteDaemon } from './harness.js';

const examples = path.join(repoRoot, 'examples', 'workflows');

describe('workflow validate through the CLI and a real daemon', () => {
  const suite = suiteDaemon();

  test('every example is valid', async () => {
    const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));
    assert.ok(['test-and-fix.yaml', 'parallel-review.yaml', 'test-fix-loop.yaml'].every((f) => files.includes(f)));
    for (const file of files) {
      const result = await suite.daemon.cli(['workflow', 'validate', path.join(examples, file)]);
      assert.equal(result.code, 0, `${file}: ${result.stdout}${result.stderr}`);
      assert.match(result.stdout, new RegExp(`${file}: valid \\(\\d+ steps\\)\\n$`));
    }
    const headline = await suite.daemon.cli(['workflow', 'validate', path.join(examples, 'test-and-fix.yaml')]);
    assert.equal(headline.stdout, `${path.join(examples, 'test-and-fix.yaml')}: valid (3 steps)\n`);
  });

  test('a broken file reports each error as FILE:LINE:COL: path: message and exits 1', async () => {
    const file = path.join(suite.workdir, 'broken.yaml');
    writeFileSync(
      file,
      `name: broken
steps:
  - type: session
    id: run-tests
    provider: claude-code
    prompt: "Run the tests; the last run said \${fix-tests.result}"
    wait: idle_prompt
    timeout: soon
  - type: if
    condition: "\${run-tests.result} contains 'FAIL' and"
    then:
      - type: session
        id: fix-tests
        provider: claude-code
        promt: "Fix them"
      - type: shell
        id: run-tests
        command: ["npm", "test"]
  - type: dance
  - session: nobody
    prompt: "hello"
`,
    );
    const result = await suite.daemon.cli(['workflow', 'validate', file]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, '');
    assert.deepEqual(result.stdout.trimEnd().split('\n'), [
      `${file}:6:47: steps[0].prompt: \${fix-tests.result}: step "fix-tests" has not run at this point (it comes later, or in another branch of a parallel step)`,
      `${file}:8:14: steps[0].timeout: bad duration "soon": write a number with a unit, e.g. 500ms, 30s, 5m, 1h or 1m30s`,
      `${file}:10:56: steps[1].condition: bad condition: expected a value (a 'string', a number or \${...}), found the end of the condition`,
      `${file}:15:9: steps[1].then[0].promt: unknown field "promt" for a session step (expected one of: type, id, timeout, retry, on_error, provider, cwd, model, trust, worktree, prompt, env, args, wait)`,
      `${file}:17:13: steps[1].then[1].id: duplicate id "run-tests" (already used by steps[0])`,
      `${file}:19:11: steps[2].type: unknown step type "dance" (expected one of: session, if, parallel, foreach, shell, set, log)`,
      `${file}:20:14: steps[3].session: no session step has id "nobody"`,
    ]);
  });

  test('a session step\'s trust must be true or false', async () => {
    const file = path.join(suite.workdir, 'trust.yaml');
    writeFileSync(file, 'name: trust\nsteps:\n  - type: session\n    provider: claude-code\n    trust: "yes"\n    prompt: hi\n');
    const result = await suite.daemon.cli(['workflow', 'validate', file]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, `${file}:5:12: steps[0].trust: must be true or false, not a string\n`);
    writeFileSync(file, 'name: trust\nsteps:\n  - type: session\n    provider: claude-code\n    trust: true\n    prompt: hi\n');
    const ok = await suite.daemon.cli(['workflow', 'validate', file]);
    assert.equal(ok.code, 0, ok.stdout);
  });

  test('a provider without a trust option refuses it when the step starts', async () => {
    const file = path.join(suite.workdir, 'trust-shell.yaml');
    writeFileSync(file, 'name: trust-shell\nsteps:\n  - type: session\n    id: sh\n    provider: shell\n    trust: true\n    args: ["true"]\n');
    const result = await suite.daemon.cli(['workflow', 'run', file]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /steps\[0\] \(sh\) provider "shell" takes no options, got: trust \(a session step's trust is for provider claude-code\)\n/);
  });

  test('--json prints the API response; YAML syntax errors have a position too', async () => {
    const file = path.join(suite.workdir, 'syntax.yaml');
    writeFileSync(file, 'name: x\nsteps:\n  - type: log\n    message: [unclosed\n');
    const result = await suite.daemon.cli(['workflow', 'validate', file, '--json']);
    assert.equal(result.code, 1);
    const body = JSON.parse(result.stdout) as { ok: boolean; errors: { path: string; line: number; column: number; message: string }[] };
    assert.equal(body.ok, false);
    assert.ok(body.errors.length >= 1);
    assert.ok(body.errors.every((e) => e.line >= 4 && e.column >= 1 && e.path === ''), JSON.stringify(body.errors));

    const ok = await suite.daemon.cli(['workflow', 'validate', path.join(examples, 'test-and-fix.yaml'), '--json']);
    assert.equal(ok.code, 0);
    assert.deepEqual(JSON.parse(ok.stdout), { ok: true, errors: [], stepCount: 3, name: 'test-and-fix', envNames: [] });
  });

  test('the endpoint validates the same text without the CLI', async () => {
    const answer = await suite.daemon.client.call(workflowEndpoints.validate, { body: { source: 'name: x\nsteps: [{ type: log, message: "${vars.nope}" }]\n' } });
    assert.equal(answer.ok, false);
    assert.deepEqual(answer.errors.map((e) => [e.line, e.column, e.path]), [[2, 32, 'steps[0].message']]);
  });

  test('saving a file writes it whole into the workflow directory, errors and all, and nowhere else', async () => {
    const dir = path.join(suite.daemon.home, 'workflows');
    const draft = 'name: draft\nsteps:\n  - type: shel\n';
    const saved = await suite.daemon.client.call(workflowEndpoints.save, { body: { file: path.join(dir, 'draft.yaml'), source: draft } });
    assert.deepEqual([saved.file, saved.errors.length > 0, readFileSync(saved.file, 'utf8'), statSync(saved.file).mode & 0o777], [path.join(dir, 'draft.yaml'), true, draft, 0o644]);
    const listed = (await suite.daemon.client.call(workflowEndpoints.files)).files.map((f) => f.file);
    assert.ok(listed.includes(saved.file));
    assert.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), [], 'no temporary file left');

    // Whatever the path says, a file lands directly in a workflow directory, under a plain name, or not at all.
    symlinkSync('/tmp', path.join(dir, 'elsewhere'));
    const attempts = [
      path.join(suite.workdir, 'outside.yaml'),
      path.join(dir, '..', 'config.yaml'),
      path.join(dir, 'elsewhere', 'through-a-link.yaml'),
      path.join(dir, 'sub', 'nested.yaml'),
      path.join(dir, '.hidden.yaml'),
      path.join(dir, 'not-yaml.sh'),
      'relative.yaml',
    ];
    for (const file of attempts) {
      const refused = await suite.daemon.client.call(workflowEndpoints.save, { body: { file, source: 'name: x\nsteps: []\n' } }).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof ApiError && refused.status === 400 && refused.code === 'invalid_request', `${file}: ${String(refused)}`);
      assert.match(refused.message, /saved directly in .*workflows, named NAME\.yaml or NAME\.yml/);
    }
    assert.equal(existsSync(path.join(suite.workdir, 'outside.yaml')) || existsSync('/tmp/through-a-link.yaml') || existsSync(path.join(dir, 'sub')), false);
    const unknownField = await suite.daemon.client.call(workflowEndpoints.save, { body: { file: saved.file, source: 'x', mode: 'x' } as never }).catch((error: unknown) => error);
    assert.ok(unknownField instanceof ApiError && unknownField.status === 400);
    assert.equal(readFileSync(saved.file, 'utf8'), draft, 'a refused save leaves the file as it was');
  });

  test('usage and file errors', async () => {
    const missing = await suite.daemon.cli(['workflow', 'validate', path.join(suite.workdir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such file: .*nope\.yaml/);
    const noFile = await suite.daemon.cli(['workflow', 'validate']);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /needs a FILE/);
    const badAction = await suite.daemon.cli(['workflow', 'launch', 'x.yaml']);
    assert.equal(badAction.code, 2);
    assert.match(badAction.stderr, /unknown workflow action "launch"/);
  });
});
