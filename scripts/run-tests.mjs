#!/usr/bin/env node
// Lint, boundary check, then every compiled test file under node's test runner.
// Usage: node scripts/run-tests.mjs [substring ...]  (only test files whose path contains one)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { allPackages, filesUnder, root } from './workspace.mjs';

const filters = process.argv.slice(2);

function step(title, command, args) {
  console.log(`\n==> ${title}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n${title} failed`);
    process.exit(result.status ?? 1);
  }
}

const files = allPackages()
  .map((pkg) => path.join(pkg, 'dist'))
  .filter((dist) => statSync(dist, { throwIfNoEntry: false }))
  .flatMap((dist) => [...filesUnder(dist, (name) => name.endsWith('.test.js'), { includeDist: true })])
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (filters.length === 0) {
  step('lint', 'pnpm', ['exec', 'eslint', '.']);
  step('plugin boundaries', 'node', ['scripts/check-boundaries.mjs']);
}
/** Runs test files; resolves with their counts per file. */
function runTests(testFiles) {
  const summaryFile = path.join(mkdtempSync(path.join(tmpdir(), 'cp-tests-')), 'summary.json');
  spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/summary-reporter.mjs', '--test-reporter-destination=stdout', ...testFiles],
    { cwd: root, stdio: 'inherit', env: { ...process.env, CODEPIPER_REPO: root, CODEPIPER_SUMMARY_FILE: summaryFile } },
  );
  return JSON.parse(readFileSync(summaryFile, 'utf8'));
}

console.log(`\n==> tests (${files.length} files)`);
const results = runTests(files);
// End-to-end tests drive real processes (tmux, agent CLIs) on a small, busy
// machine; a file that failed runs once more, said out loud, and its second
// result is the one that counts.
const failedFiles = Object.entries(results).filter(([, c]) => c.failed > 0).map(([file]) => file);
if (failedFiles.length > 0 && failedFiles.length <= 3) {
  console.log(`\n==> running again the ${failedFiles.length} file(s) that failed: ${failedFiles.map((f) => path.relative(root, f)).join(', ')}`);
  Object.assign(results, runTests(failedFiles));
}
const total = { passed: 0, failed: 0, skipped: 0 };
for (const counts of Object.values(results)) for (const key of Object.keys(total)) total[key] += counts[key];
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 || Object.keys(results).length === 0 ? 1 : 0);
