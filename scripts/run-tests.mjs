#!/usr/bin/env node
// Lint, boundary check, then every compiled test file under node's test runner.
// Usage: node scripts/run-tests.mjs [substring ...]  (only test files whose path contains one)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { statSync } from 'node:fs';
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
console.log(`\n==> tests (${files.length} files)`);
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/summary-reporter.mjs', '--test-reporter-destination=stdout', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, CODEPIPER_REPO: root } },
);
process.exit(result.status ?? 1);
