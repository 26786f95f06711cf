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

/**
 * A `not_found` answer to a call naming a session, as a message quoting the id the user typed
 * (an ambiguous one is named by the daemon already, with its candidates).
 */
export function sessionLookupError(id: string, error: unknown): unknown {
  return error instanceof ApiError && error.code === 'not_found' ? new Error(`no session matches id "${id}"`) : error;
}

/** Awaits a call that names a session by the id (or prefix) the user typed. */
export async function forSession<T>(id: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw sessionLookupError(id, error);
  }
}
