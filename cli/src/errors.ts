import { ApiError, DaemonUnreachableError } from '@codepiper/sdk';

/** The command was typed wrong (unknown option, bad value): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_NO_DAEMON = 3;

/** cac reports parse errors (unknown option, missing argument) as `CACError`, which it does not export. */
const isCacError = (error: unknown): error is Error => error instanceof Error && error.name === 'CACError';

/** The line to print on stderr (after `codepiper: `) and the exit code for an error a command threw. */
export function describeError(error: unknown, helpCommand: string): { message: string; exitCode: number } {
  if (error instanceof UsageError || isCacError(error)) {
    return { message: `${error.message} (see: ${helpCommand})`, exitCode: EXIT_USAGE };
  }
  if (error instanceof DaemonUnreachableError) {
    return {
      message: `the daemon is not running (no socket at ${error.target}). Start it with: codepiper daemon --detach`,
      exitCode: EXIT_NO_DAEMON,
    };
  }
  return { message: error instanceof Error ? error.message : String(error), exitCode: EXIT_FAILURE };
}

/** Turns the API's answers to an id it cannot resolve into messages quoting the id the user typed. */
export function sessionLookupError(id: string, error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  if (error.code === 'not_found') return new Error(`no session matches id "${id}"`);
  if (error.code === 'ambiguous_id') {
    const candidates = error.details?.candidates;
    const matches = Array.isArray(candidates) ? `: matches ${candidates.join(', ')}` : '';
    return new Error(`session id "${id}" is ambiguous${matches}`);
  }
  return error;
}

/** Awaits a call that names a session by the id (or prefix) the user typed. */
export async function forSession<T>(id: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw sessionLookupError(id, error);
  }
}
