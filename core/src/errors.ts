/** The message of anything thrown, for error messages that name their cause. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A start the user can fix (a daemon already running, a port in use, a TLS
 * file that cannot be read): the message says what and how, and is reported
 * as that one line, without a stack.
 */
export class StartRefused extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartRefused';
  }
}
