/**
 * Every error code the API answers with, declared once: its HTTP status and
 * what it means. The API description (`/openapi.json`) lists them; a client
 * decides by the code, never by the message.
 */
export const ERROR_CODES = {
  // The request itself
  invalid_request: { status: 400, meaning: 'A parameter, query field or body field does not fit the endpoint, or a value is out of range; the message names which' },
  invalid_json: { status: 400, meaning: 'The body is not JSON' },
  bad_request: { status: 400, meaning: 'The HTTP layer refused the request for another reason; the message says which' },
  payload_too_large: { status: 413, meaning: 'The body is larger than the endpoint takes' },
  unsupported_media_type: { status: 415, meaning: 'The body is not application/json' },
  upgrade_required: { status: 426, meaning: 'The endpoint is a WebSocket: open it with an Upgrade request' },
  not_found: { status: 404, meaning: 'No such route, or nothing has that id, prefix or name' },
  ambiguous_id: { status: 409, meaning: 'An id prefix or a name matches more than one thing; `details.candidates` lists them' },
  internal_error: { status: 500, meaning: 'A fault in the daemon; its log has the details' },
  // Who may ask
  unauthenticated: { status: 401, meaning: 'Over TCP: sign in first (no web session, or it expired; or an access token unknown, revoked or expired)' },
  token_scope: { status: 403, meaning: 'Over TCP: an access token of scope read sent a request that changes something, or opened a terminal' },
  setup_required: { status: 403, meaning: 'Over TCP: the first-run setup (password and TOTP) is not finished' },
  unauthorized: { status: 401, meaning: 'A hook call without the session’s hook secret, or with a wrong one' },
  host_not_allowed: { status: 403, meaning: 'Over TCP: the Host header names a host the listener does not answer to (web.allowed_hosts)' },
  origin_required: { status: 403, meaning: 'Over TCP: a state-changing request or a WebSocket without an Origin header' },
  cross_origin: { status: 403, meaning: 'Over TCP: a request from an origin that is not allowed (web.allowed_origins)' },
  local_only: { status: 403, meaning: 'Served to the local CLI (the Unix socket) only' },
  inside_session: { status: 403, meaning: 'A change to what governs the agents (policies, approvals, secrets...) sent from a program inside a session' },
  unknown_sender: { status: 403, meaning: 'A change to what governs the agents whose sending program could not be identified' },
  login_failed: { status: 401, meaning: 'Wrong password or code' },
  invalid_code: { status: 400, meaning: 'The TOTP code does not match the secret being enrolled' },
  rate_limited: { status: 429, meaning: 'Too many attempts from this client; `details.retryAfterSeconds` says when to try again' },
  account_locked: { status: 429, meaning: 'Too many failed sign-ins: sign-in is locked for a while' },
  password_set: { status: 409, meaning: 'The permanent password is chosen already' },
  password_required: { status: 409, meaning: 'Choose the permanent password first' },
  no_enrollment: { status: 409, meaning: 'No TOTP enrollment is under way' },
  mfa_enrolled: { status: 409, meaning: 'TOTP is enrolled already' },
  // Sessions
  unknown_provider: { status: 400, meaning: 'No installed provider has that id' },
  provider_unavailable: { status: 409, meaning: 'The session’s provider is not loaded in this daemon' },
  command_not_found: { status: 400, meaning: 'The program to run is not on the PATH' },
  invalid_directory: { status: 400, meaning: 'The working directory does not exist or is not a directory' },
  unknown_secret: { status: 400, meaning: 'A named secret is not in the secret store' },
  name_taken: { status: 409, meaning: 'Another session has that name' },
  session_exists: { status: 409, meaning: 'A session with that id exists' },
  session_running: { status: 409, meaning: 'The session still runs (resume or remove needs it ended)' },
  session_kept: { status: 409, meaning: 'A plugin keeps the finished session: its worktree holds work not merged or discarded; the message says what to do' },
  session_ended: { status: 409, meaning: 'The session has ended: it takes no input' },
  session_not_ready: { status: 409, meaning: 'The session is still starting' },
  not_resumable: { status: 400, meaning: 'The session or its provider cannot be resumed' },
  model_switch_unsupported: { status: 400, meaning: 'The session’s provider cannot switch models' },
  images_unsupported: { status: 400, meaning: 'The session’s provider cannot give its agent images' },
  invalid_image: { status: 400, meaning: 'The data is not an image of the type it says it is' },
  no_transcript: { status: 404, meaning: 'The session has no transcript: its provider keeps none, or the agent has not written one yet' },
  no_screen: { status: 404, meaning: 'The session has no screen to show (it ended before one was kept)' },
  input_refused: { status: 403, meaning: 'A policy refused the input' },
  prompt_not_taken: { status: 502, meaning: 'The agent did not take a prompt: it never confirmed it, and its screen shows it still in its input box or nowhere; it was not typed twice' },
  folder_not_trusted: { status: 409, meaning: 'Claude Code asks whether to trust the folder; nothing was typed into its question' },
  trust_dialog: { status: 500, meaning: 'Claude Code’s trust question could not be answered' },
  start_failed: { status: 500, meaning: 'The provider could not start the session' },
  duplicate_session: { status: 409, meaning: 'tmux has a session of that name already' },
  tmux_unavailable: { status: 500, meaning: 'tmux is missing, or older than 3.2' },
  tmux_disconnected: { status: 503, meaning: 'The daemon lost its connection to tmux before tmux answered; it reconnects by itself' },
  tmux_error: { status: 500, meaning: 'tmux refused a command; the message is tmux’s' },
  file_exists: { status: 409, meaning: 'The file to write exists already; nothing was written' },
  backup_failed: { status: 500, meaning: 'The database could not be copied (a full disk, say); the message has SQLite’s reason, and no partial copy is left' },
  // Worktrees
  worktrees_unavailable: { status: 400, meaning: 'A session asked for a worktree, and no loaded plugin makes them' },
  not_a_repository: { status: 400, meaning: 'A worktree was asked for outside a git repository, or in one without a commit' },
  branch_exists: { status: 409, meaning: 'The branch named for a session’s worktree exists already' },
  no_worktree: { status: 404, meaning: 'The session does not run in a worktree of its own (start it with --worktree)' },
  worktree_finished: { status: 409, meaning: 'The session’s worktree has been discarded' },
  merge_conflict: { status: 409, meaning: 'The worktree’s branch does not merge cleanly; `details.conflicts` lists the files; nothing was changed' },
  base_not_clean: { status: 409, meaning: 'The checkout where the base branch is cannot take a merge: it has uncommitted changes or another branch' },
  git_failed: { status: 500, meaning: 'git refused a command; the message is git’s' },
  // Hosts
  hosts_unavailable: { status: 400, meaning: 'A session was to start on another host, and no loaded plugin reaches hosts' },
  host_exists: { status: 409, meaning: 'A host has that name already' },
  host_in_use: { status: 409, meaning: 'Sessions still run on the host; `details.sessions` lists them' },
  host_unreachable: { status: 502, meaning: 'The host could not be reached over SSH; the message says why (its host key unknown or changed, refused, timed out)' },
  // Workspaces
  workspace_exists: { status: 409, meaning: 'A workspace has that name' },
  in_use: { status: 409, meaning: 'Something still uses it (an env set named by a workspace); the message names what' },
  // Policies, workflows, analytics
  invalid_policy: { status: 400, meaning: 'The policy does not validate; the message says where' },
  policies_unavailable: { status: 400, meaning: 'A start named policy sets or asked to run without policies, and no loaded plugin governs sessions' },
  unknown_policy_set: { status: 400, meaning: 'No policy is in a set of that name, so attaching it would change nothing' },
  policy_exists: { status: 409, meaning: 'A policy has that name' },
  builtin_policy: { status: 409, meaning: 'A built-in policy cannot be changed or removed, only disabled' },
  approval_answered: { status: 409, meaning: 'The approval has been answered already' },
  invalid_workflow: { status: 400, meaning: 'The workflow file does not validate; `details.errors` has each error with its line and column' },
  run_finished: { status: 409, meaning: 'The workflow run has finished' },
  import_running: { status: 409, meaning: 'An analytics import is running already' },
  no_such_directory: { status: 400, meaning: 'A directory to import from does not exist' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Shared by every copy of the SDK (Symbol.for), so that a plugin built against its own copy gets its errors through too. */
const BRAND = Symbol.for('codepiper.error');
type Branded = { [BRAND]?: true };

/**
 * An error with a code from ERROR_CODES (which gives its HTTP status). The API
 * server turns it into `{"error": {"code", "message", "details"}}`; anything
 * else thrown in a handler becomes a 500 `internal_error` without leaking details.
 */
export class CodePiperError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CodePiperError';
    this.status = ERROR_CODES[code].status;
    (this as Branded)[BRAND] = true;
  }
}

/** A CodePiperError (a subclass, under a name of its own, included) from any copy of the SDK. */
export function isCodePiperError(error: unknown): error is CodePiperError {
  return typeof error === 'object' && error !== null && (error as Branded)[BRAND] === true;
}

export const notFound = (what: string): CodePiperError => new CodePiperError('not_found', `${what} not found`);

export const badRequest = (message: string, details?: Record<string, unknown>): CodePiperError => new CodePiperError('invalid_request', message, details);

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
