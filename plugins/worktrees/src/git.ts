import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CodePiperError } from '@codepiper/sdk';

/** What git printed, and how it ended: a run that git refused (exit code 1, say) is an answer too, for callers that expect one. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  env?: Readonly<Record<string, string>>;
}

/** Diffs of a busy session can be large; past this git's output is cut and the call fails. */
const MAX_OUTPUT = 64 * 1024 * 1024;

/** Runs the user's git in `cwd` with `args`, never through a shell; never prompts (no terminal to answer). */
export function runGit(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'core.quotepath=off', ...args],
      { cwd, maxBuffer: MAX_OUTPUT, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...options.env } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error.code === 'ENOENT' ? notStarted(cwd) : new CodePiperError('git_failed', `git ${args[0]}: ${error.message}`));
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Node reports a missing working directory as it does a missing program: ENOENT. */
function notStarted(cwd: string): CodePiperError {
  return existsSync(cwd)
    ? new CodePiperError('git_failed', 'git is not installed, or not on the daemon’s PATH')
    : new CodePiperError('invalid_directory', `${cwd} does not exist: git cannot run there`);
}

/** Runs git and returns its output; a failure is `git_failed` with git's own words. */
export async function git(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<string> {
  const result = await runGit(cwd, args, options);
  if (result.code !== 0) throw new CodePiperError('git_failed', `git ${args[0]} failed: ${result.stderr.trim() || `exit code ${result.code}`}`);
  return result.stdout;
}
