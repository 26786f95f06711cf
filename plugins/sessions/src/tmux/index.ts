export { ControlClient, type CommandHooks, type ControlClientOptions } from './control.js';
export { TmuxError, type TmuxErrorCode } from './errors.js';
export { tmuxKey } from './keys.js';
export { decodeOctal, escapeFormat, quoteWord, hexArgs, parseTmuxVersion, type TmuxVersion } from './protocol.js';
export {
  CONTROL_SESSION,
  MIN_TMUX,
  TmuxServer,
  type CaptureOptions,
  type CreatedSession,
  type CreateSessionOptions,
  type PaneDiedEvent,
  type SessionGoneEvent,
  type TmuxEvents,
  type TmuxServerOptions,
  type TmuxSessionInfo,
} from './server.js';
export { renderSnapshot, type WatchOptions } from './watch.js';
