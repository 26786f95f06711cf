import { CodePiperError, type ErrorCode } from '@codepiper/sdk';

/** The codes tmux's failures are reported with (see ERROR_CODES for each one's meaning and status). */
export type TmuxErrorCode = Extract<ErrorCode, 'not_found' | 'duplicate_session' | 'invalid_request' | 'tmux_unavailable' | 'tmux_disconnected' | 'tmux_error'>;

export class TmuxError extends CodePiperError {
  constructor(
    override readonly code: TmuxErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'TmuxError';
  }

  /** Classifies an error message printed by tmux. */
  static fromTmux(message: string): TmuxError {
    const text = message.trim() || 'tmux reported an error';
    if (/can't find (session|pane|window)|no such (session|pane|window)|session not found|pane not found|^no sessions$/im.test(text)) return new TmuxError('not_found', text);
    if (/duplicate session/i.test(text)) return new TmuxError('duplicate_session', text);
    if (/no server running|server exited|lost server|error connecting/i.test(text)) return new TmuxError('tmux_disconnected', text);
    return new TmuxError('tmux_error', text);
  }
}
