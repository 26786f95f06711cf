import type { LaunchSpec, RemoteLaunch } from '@codepiper/sessions-contract';
import type { HostConnection } from './connection.js';
import { inSh, shQuote, sshOptions, type SshPlaces } from './ssh.js';

/**
 * The private tmux server on a host, as every session there is in it; its
 * client told the terminal takes UTF-8 (`-u`: ssh brings no locale, and
 * tmux would draw every other character as `_`).
 */
const REMOTE_TMUX = 'tmux -u -L codepiper';

/** The tmux session of a CodePiper session, here and on its host. */
const tmuxName = (sessionId: string): string => `cp-${sessionId}`;

/** What CodePiper keeps on a host (its tmux config, exit codes, secrets waiting for a program), as sh there expands it. */
const REMOTE_DIR = '$HOME/.codepiper';

/** The file a session's secrets wait in on its host, until its program's shell reads it (see `secretsFile`). */
const secretsPath = (name: string): string => `"${REMOTE_DIR}/env/${name}"`;

/**
 * Runs here, in the session's pane: ssh (its arguments after the script),
 * again after a lost connection (ssh's 255), waiting longer each time up to
 * 30 s; any other end is the program's, its exit code the session's.
 */
const RECONNECTING = `delay=1
while :; do
  started=$(date +%s)
  "$@"
  code=$?
  [ "$code" -ne 255 ] && exit "$code"
  [ $(($(date +%s) - started)) -gt 60 ] && delay=1
  printf '\\r\\n[codepiper: the connection to the host was lost; trying again in %ss]\\r\\n' "$delay"
  sleep "$delay"
  [ "$delay" -lt 30 ] && delay=$((delay * 2))
done`;

/**
 * Run by sh on the host: the program in a session of the private tmux
 * server there (made, or joined again after a lost connection), attached to
 * this ssh's terminal; ends with the program's exit code, which the program's
 * wrapper leaves in a file.
 */
function remoteScript(launch: RemoteLaunch, name: string): string {
  const env = Object.entries(launch.spec.env ?? {}).flatMap(([key, value]) => (value === null ? [] : ['-e', shQuote(`${key}=${value}`)]));
  const exitFile = `"$dir/exits/${name}"`;
  // The program's shell reads the secrets' file (see `secretsFile`) and removes it before the program starts.
  const program = 'if [ -f "$1" ]; then . "$1"; rm -f "$1"; fi; shift; "$@"; echo $? > "$0"';
  return [
    `dir="${REMOTE_DIR}"`,
    'mkdir -p "$dir/exits" && chmod 700 "$dir" || exit 1',
    // Ours, not the user's .tmux.conf: no status line or prefix key inside the daemon's own pane.
    `printf '%s\\n' 'set -g status off' 'set -g prefix None' 'set -g prefix2 None' 'set -g escape-time 0' > "$dir/tmux.conf"`,
    'tput -T "$TERM" longname >/dev/null 2>&1 || TERM=xterm-256color; export TERM',
    [REMOTE_TMUX, '-f "$dir/tmux.conf" new-session -A -s', name, '-c', shQuote(launch.cwd), ...env, '--', 'sh -c', shQuote(program), exitFile, secretsPath(name), ...launch.spec.argv.map(shQuote)].join(' '),
    `if [ -f ${exitFile} ]; then code=$(cat ${exitFile}); rm -f ${exitFile}; exit "$code"; fi`,
    'exit 1',
  ].join('\n');
}

/**
 * The command that leaves a session's secrets on its host for its program's
 * shell to read once: sent as this command's input (over the encrypted
 * connection, in no command line), into a file only that user can read,
 * which the program's shell removes before the program starts.
 */
export function secretsFile(sessionId: string, secrets: Readonly<Record<string, string>>): { command: string; input: string } {
  const name = tmuxName(sessionId);
  return {
    command: `umask 077 && mkdir -p "${REMOTE_DIR}/env" && cat > ${secretsPath(name)}`,
    input: Object.entries(secrets).map(([key, value]) => `export ${key}=${shQuote(value)}\n`).join(''),
  };
}

/** Run on the host once a session there ended: its tmux session goes (it may be gone already), and its secrets' file should its program never have started. */
export const endCommand = (sessionId: string): string => `${REMOTE_TMUX} kill-session -t ${tmuxName(sessionId)} 2>/dev/null; rm -f ${secretsPath(tmuxName(sessionId))}; true`;

/**
 * What runs here for a program on a host: ssh over the host's connection,
 * reconnecting when it is lost. The script the host runs (see `inSh`) quotes
 * every word of the user's for sh.
 */
export function remoteLaunchSpec(launch: RemoteLaunch, connection: HostConnection, places: SshPlaces): LaunchSpec {
  const ssh = ['ssh', ...sshOptions(connection.target, places), '-tt', '--', connection.target.destination, inSh(remoteScript(launch, tmuxName(launch.sessionId)))];
  return { argv: ['sh', '-c', RECONNECTING, 'codepiper-ssh', ...ssh], metadata: { host: launch.host } };
}
