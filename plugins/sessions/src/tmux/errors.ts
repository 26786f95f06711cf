import { CodePiperError } from '@codepiper/sdk';

export type TmuxErrorCode =
  /** No such session or pane. */
  | 'not_found'
  /** A session with that name exists already. */
  | 'duplicate_session'
  /** A bad argument (session name, pane id, key, size, cwd...). */
  | 'invalid_request'
  /** The tmux binary is missing or older than 3.2. */
  | 'tmux_unavailable'
  /** The control client ended (server gone, daemon closing) before answering. */
  | 'tmux_disconnected'
  /** tmux refused a command for another reason. */
  | 'tmux_error';

const STATUS: Record<TmuxErrorCode, number> = {
  not_found: 404,
  duplicate_session: 409,
  invalid_request: 400,
  tmux_unavailable: 500,
  tmux_disconnected: 503,
  tmux_error: 500,
};

export class TmuxError extends CodePiperError {
  constructor(
    override readonly code: TmuxErrorCode,
    message: string,
  ) {
    super(code, message, STATUS[code]);
    this.name = 'TmuxError';
  }

  /** Classifies an error message printed by tmux. */
  static fromTmux(message: string): TmuxError {
    const text = message.trim() || 'tmux reported an error';
    if (/can't find (session|pane|window)|no such (session|pane|window)|session not found|pane not found/i.test(text)) return new TmuxError('not_found', text);
    if (/duplicate session/i.test(text)) return new TmuxError('duplicate_session', text);
    if (/no server running|server exited|lost server|error connecting/i.test(text)) return new TmuxError('tmux_disconnected', text);
    return new TmuxError('tmux_error', text);
  }
}
