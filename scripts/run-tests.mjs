#!/usr/bin/env node
// Lint, boundary check, then every compiled test file under node's test runner.
// Usage: node scripts/run-tests.mjs [substring ...]  (only test files whose path contains one)
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout, clearTimeout } from 'node:timers';
import { Buffer } from 'node:buffer';
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
/**
 * Known flaky tests, by exact name, each with the reason it is flaky and what
 * is being done about it. A quarantined test still runs; its failure is listed
 * in the summary, not counted. Nothing else is ever forgiven or tried again.
 */
const quarantine = JSON.parse(readFileSync(path.join(root, 'scripts', 'quarantine.json'), 'utf8'));

/** How long one test file may take before it is killed and counted as failed. */
const fileTimeoutMs = Number(process.env.CODEPIPER_TEST_FILE_TIMEOUT_S ?? 900) * 1000;

/** Runs one test file in its own process group; its output is printed whole when it ends. */
function runFile(file) {
  // The file's summary, and the logs of the daemons its tests removed (shown if it fails).
  const kept = mkdtempSync(path.join(tmpdir(), 'cp-tests-'));
  const summaryFile = path.join(kept, 'summary.json');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/summary-reporter.mjs', '--test-reporter-destination=stdout', file], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CODEPIPER_REPO: root, CODEPIPER_SUMMARY_FILE: summaryFile, CODEPIPER_TEST_LOGS: kept },
    });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid, 'SIGKILL');
    }, fileTimeoutMs);
    child.on('close', async (code) => {
      clearTimeout(timer);
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      console.log(`\n--- ${path.relative(root, file)} (${seconds} s)\n${Buffer.concat(output).toString().trimEnd()}`);
      let result = { passed: 0, skipped: 0, failures: [] };
      try {
        result = JSON.parse(readFileSync(summaryFile, 'utf8'));
      } catch {
        // No summary: the file never finished.
      }
      if (timedOut) {
        console.log(`\n${path.relative(root, file)} killed after ${fileTimeoutMs / 1000} s`);
        result = { ...result, failures: [...result.failures, { name: `${path.relative(root, file)}: timed out` }] };
      } else if (result.passed + result.failures.length + result.skipped === 0) {
        result = { ...result, failures: [{ name: `${path.relative(root, file)}: ran no test` }] };
      } else if (code !== 0 && result.failures.length === 0) {
        // node --test exits 1 on a failure; one its reporter did not see (lost output) must still count.
        result = { ...result, failures: [{ name: `${path.relative(root, file)}: exited with code ${code}, though no failing test was reported` }] };
      }
      if (result.failures.length > 0) printDaemonLogs(kept);
      rmSync(kept, { recursive: true, force: true });
      const leaked = await leftovers(`after ${path.relative(root, file)} (or the file beside it)`);
      result = { ...result, failures: [...result.failures, ...leaked.map((name) => ({ name }))] };
      resolve(result);
    });
  });
}

/** How much of each kept daemon log a failing file shows: its end, where the failure is. */
const LOG_TAIL_LINES = 200;

/** The ends of the logs of the daemons a failing file's tests ran (their homes are gone). */
function printDaemonLogs(dir) {
  for (const name of readdirSync(dir).filter((n) => n.startsWith('daemon-')).sort()) {
    const lines = readFileSync(path.join(dir, name), 'utf8').trimEnd().split('\n');
    console.log(`\n--- the last ${Math.min(lines.length, LOG_TAIL_LINES)} of ${lines.length} lines of ${name}\n${lines.slice(-LOG_TAIL_LINES).join('\n')}`);
  }
}

/** Runs the files two at a time (the machines here have 2 cores). */
async function runAll(testFiles) {
  const results = [];
  const queue = [...testFiles];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) results.push(await runFile(file));
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/** How long a process whose test home is gone may take to finish exiting (a tmux server just told to) before it counts as left running. */
const EXIT_GRACE_MS = 3000;

/** The command line of a live process, or undefined (gone, or a zombie, whose command line is empty). */
function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Processes the tests left running: those whose command line names a test
 * home (`tempHome()` makes /tmp/cpt-*) that is gone, such as the tmux server of
 * a home whose daemon a test stopped: nothing would ever end them. (A home
 * that still exists may be another test run's, on the same machine.) One that
 * is still exiting, as a test's cleanup removes its home, gets a grace. Each
 * left is printed, returned as a failure, and ended.
 */
async function leftovers(when) {
  let candidates = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      const command = commandOf(pid);
      const home = command?.match(/\/tmp\/cpt-[^/\s]+/)?.[0];
      return home && !existsSync(home) ? [{ pid, command }] : [];
    });
  const deadline = Date.now() + EXIT_GRACE_MS;
  while (candidates.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    candidates = candidates.filter(({ pid, command }) => commandOf(pid) === command);
  }
  const found = candidates.map(({ pid, command }) => `left running ${when}: pid ${pid}, ${command.slice(0, 160)}`);
  for (const { pid } of candidates) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  if (found.length > 0) console.log(`\n${found.join('\n')}`);
  return found;
}

console.log(`\n==> tests (${files.length} files, each within ${fileTimeoutMs / 1000} s)`);
const results = await runAll(files);
const leaked = await leftovers('after the last file');
if (leaked.length > 0) results.push({ passed: 0, skipped: 0, failures: leaked.map((name) => ({ name })) });
const total = { passed: 0, skipped: 0 };
const quarantined = [];
const failed = [];
for (const result of results) {
  total.passed += result.passed;
  total.skipped += result.skipped;
  for (const failure of result.failures) {
    if (Object.hasOwn(quarantine, failure.name)) quarantined.push(`${failure.name}: ${quarantine[failure.name]}`);
    else failed.push(failure);
  }
}
// Again at the end, where a log that keeps only its tail still shows why.
for (const { name, detail } of failed) console.log(`\nfailed: ${name}${detail ? `\n${detail.replace(/^/gm, '  ')}` : ''}`);
if (quarantined.length > 0) console.log(`\nquarantined failures, not counted:\n${quarantined.map((q) => `  ${q}`).join('\n')}`);
console.log(`\n${total.passed} passed, ${failed.length} failed, ${total.skipped} skipped${quarantined.length ? `, ${quarantined.length} quarantined` : ''}`);
process.exit(failed.length > 0 || results.length === 0 ? 1 : 0);
