/**
 * An error with a stable machine-readable code and the HTTP status it maps to.
 * The API server turns it into `{"error": {"code", "message"}}`; anything else
 * thrown in a handler becomes a 500 `internal_error` without leaking details.
 */
export class CodePiperError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CodePiperError';
  }
}

export const notFound = (what: string): CodePiperError => new CodePiperError('not_found', `${what} not found`, 404);

export const badRequest = (message: string, details?: Record<string, unknown>): CodePiperError =>
  new CodePiperError('invalid_request', message, 400, details);

export const conflict = (code: string, message: string, details?: Record<string, unknown>): CodePiperError =>
  new CodePiperError(code, message, 409, details);

/** Errors raised while the kernel assembles plugins always name the plugins involved. */
export class PluginGraphError extends Error {
  constructor(
    message: string,
    readonly plugins: readonly string[],
  ) {
    super(message);
    this.name = 'PluginGraphError';
  }
}
