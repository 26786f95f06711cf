/**
 * The summary CI prints comes from scripts/summary-reporter.mjs: run here on a
 * real test file under node's test runner, as scripts/run-tests.mjs runs each.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot } from './harness.js';

interface Summary {
  passed: number;
  skipped: number;
  failures: { name: string; detail: string }[];
}

const dir = mkdtempSync(path.join(tmpdir(), 'cp-reporter-'));

function summaryOf(source: string): Summary {
  const file = path.join(dir, 'sample.test.mjs');
  const summaryFile = path.join(dir, 'summary.json');
  writeFileSync(file, source);
  // Without it the inner runner would take itself for this one's child and report to it, not through the reporter.
  const { NODE_TEST_CONTEXT: _outer, ...env }: NodeJS.ProcessEnv = { ...process.env, CODEPIPER_SUMMARY_FILE: summaryFile };
  const run = spawnSync(process.execPath, ['--test', `--test-reporter=${path.join(repoRoot, 'scripts', 'summary-reporter.mjs')}`, '--test-reporter-destination=stdout', file], {
    encoding: 'utf8',
    env,
  });
  assert.notEqual(run.status, 0, 'node --test exits non-zero on a failure');
  return JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
}

describe('the test summary names every failure, with its error', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a suite whose before hook throws is listed with the hook’s error, not only as tests cancelled', () => {
    const summary = summaryOf(`
      import { before, describe, test } from 'node:test';
      describe('with a host', () => {
        before(() => { throw new Error('usermod: cannot lock /etc/passwd; try again later.'); });
        test('reaches the host', () => {});
      });
      test('stands alone', () => {});
    `);
    assert.equal(summary.passed, 1);
    const hook = summary.failures.find((f) => f.name === 'with a host (a hook of the suite)');
    assert.ok(hook, `the suite is listed: ${JSON.stringify(summary.failures)}`);
    assert.match(hook.detail, /cannot lock \/etc\/passwd/);
    assert.match(hook.detail, /sample\.test\.mjs:4/, 'with where it was thrown');
    assert.ok(summary.failures.some((f) => f.name === 'reaches the host'), 'its test still counts as failed');
  });

  test('a suite whose own body throws is listed as itself, not as a hook', () => {
    const summary = summaryOf(`
      import { describe, test } from 'node:test';
      describe('with a fixture', () => {
        test('uses it', () => {});
        throw new Error('the fixture is missing');
      });
    `);
    const suite = summary.failures.find((f) => f.name === 'with a fixture (the suite itself)');
    assert.ok(suite, `the suite is listed: ${JSON.stringify(summary.failures)}`);
    assert.match(suite.detail, /the fixture is missing/);
  });

  test('a failing test is listed once, and its suite is not listed again for it', () => {
    const summary = summaryOf(`
      import { describe, test } from 'node:test';
      describe('sums', () => {
        test('adds', () => { throw new Error('expected 3, got 4'); });
        test('subtracts', () => {});
      });
    `);
    assert.deepEqual(summary.failures.map((f) => f.name), ['adds']);
    assert.match(summary.failures[0]!.detail, /expected 3, got 4/);
    assert.equal(summary.passed, 1);
  });
});
