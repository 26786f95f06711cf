import { spawn } from 'node:child_process';
import type { ShellInvocation } from '../shell.js';
import { StepFailure } from './interruption.js';
import { KILL_GRACE_MS, processStartTime, signalGroup, type ProcessGroup } from './process-group.js';

/** Each stream keeps at most this much; more is cut, and the cut is said. */
const MAX_CAPTURE = 1024 * 1024;

export interface ShellOutcome {
  exit_code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they were written. */
  output: string;
  /** stdout without its trailing newline. */
  result: string;
}

class Capture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private cut = false;

  add(chunk: Buffer): void {
    if (this.size >= MAX_CAPTURE) {
      this.cut = true;
      return;
    }
    const kept = chunk.subarray(0, MAX_CAPTURE - this.size);
    this.cut ||= kept.length < chunk.length;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.cut ? `${text}\n[cut: more than ${MAX_CAPTURE} bytes]` : text;
  }
}

/**
 * Waits for EOF on its stdin, a pipe from the daemon that only the daemon's
 * death closes, then ends the step's process group ($1) as a cancel would.
 */
const GROUP_GUARD = 'while read -r _; do :; done; kill -TERM -"$1" 2>/dev/null; sleep 2; kill -KILL -"$1" 2>/dev/null';

/**
 * Holds the step's command until its guard watches it and its group is
 * recorded: a line on stdin from the daemon starts it (stdin then /dev/null,
 * as for any step); the daemon's death before that, EOF, ends it unstarted.
 * Otherwise a daemon killed in between would leave a step running that no
 * guard ends, or that a resumed run does not know to end.
 */
const HELD_START = 'IFS= read -r _ || exit 125; exec "$@" </dev/null';
/** How sh says that `exec` found no such program. */
const NOT_FOUND = /exec: .*: not found/;

/**
 * A step's processes die with the daemon, even one killed with SIGKILL. The
 * guard has a session of its own, so a signal to the daemon's process group (a
 * closed terminal, Ctrl+C) cannot end it first. Returns the guard's release,
 * or undefined when no guard could be started.
 */
function guardGroup(pgid: number): (() => void) | undefined {
  const guard = spawn('sh', ['-c', GROUP_GUARD, 'codepiper-step-guard', String(pgid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  guard.on('error', () => undefined);
  if (!guard.pid) return undefined;
  return () => guard.kill('SIGKILL');
}

/**
 * Runs a shell step's process (never through a shell of ours: `invocation` is
 * an argv, see prepareShellCommand) in its own process group, so a cancel, a
 * timeout or the daemon's death ends everything it started; `started` is told
 * the group (and has recorded it) before the step runs, for a resumed run to
 * end what a daemon killed with SIGKILL left.
 * A non-zero exit is a StepFailure that carries the outputs.
 */
export function runShell(
  invocation: ShellInvocation,
  cwd: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  started: (group: ProcessGroup) => Promise<void>,
): Promise<ShellOutcome> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const stdout = new Capture();
    const stderr = new Capture();
    const both = new Capture();
    const child = spawn('sh', ['-c', HELD_START, 'codepiper-step', invocation.file, ...invocation.args], { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const pgid = child.pid;
    if (pgid === undefined) {
      // Not started (no sh, no process slot left): its error says why.
      child.on('error', (error) => reject(new StepFailure(`cannot start the step: ${error.message}`)));
      return;
    }
    const killGroup = (sig: NodeJS.Signals) => signalGroup(pgid, sig);
    const releaseGuard = guardGroup(pgid);
    // Fail closed: unguarded, the step could outlive a crash and then run twice.
    if (!releaseGuard) {
      killGroup('SIGKILL');
      return reject(new StepFailure('cannot start the guard that ends the step with the daemon (is sh installed, or the process limit reached?)'));
    }
    child.stdin.on('error', () => undefined);
    // Let go only once its group is recorded: a daemon killed from then on leaves a group the resumed run knows to end.
    void processStartTime(pgid)
      .then((startTime) => (startTime ? started({ pgid, startTime }) : undefined))
      .catch(() => undefined)
      .finally(() => child.stdin.end('\n'));
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => (stdout.add(chunk), both.add(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr.add(chunk), both.add(chunk)));
    child.on('error', (error: NodeJS.ErrnoException) => {
      releaseGuard();
      signal.removeEventListener('abort', onAbort);
      reject(new StepFailure(`cannot start the step: ${error.message}`));
    });
    child.on('close', (code, killedBy) => {
      releaseGuard();
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (signal.aborted) return reject(signal.reason as Error);
      if (code === 127 && NOT_FOUND.test(stderr.text())) return reject(new StepFailure(`cannot run ${JSON.stringify(invocation.file)}: no such program`));
      const out = stdout.text();
      const outcome: ShellOutcome = { exit_code: code, stdout: out, stderr: stderr.text(), output: both.text(), result: out.replace(/\r?\n$/, '') };
      if (code === 0) resolve(outcome);
      else reject(new StepFailure(killedBy ? `killed by ${killedBy}` : `exited with code ${code}`, { ...outcome }));
    });
  });
}
