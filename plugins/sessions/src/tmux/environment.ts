import type { ControlClient } from './control.js';
import { TmuxError } from './errors.js';
import { quoteWord } from './protocol.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Variables of the daemon that must not reach sessions: `CODEPIPER_HOME` would lead a program to the daemon's socket. */
const DAEMON_VARIABLE = /^CODEPIPER_/;

/**
 * The daemon's environment without the variables that would tie tmux to the
 * user's own server, nor the daemon's own: panes inherit the server's.
 */
export function tmuxEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TMUX;
  delete env.TMUX_PANE;
  for (const key of Object.keys(env)) if (DAEMON_VARIABLE.test(key)) delete env[key];
  return env;
}

/**
 * Makes the server's global environment, which new sessions start from, the
 * daemon's (`env`). A server an earlier daemon started still holds that
 * daemon's: a daemon restarted with a new ANTHROPIC_BASE_URL would otherwise
 * give new sessions the old one, and a variable since unset would live on.
 */
export async function adoptDaemonEnv(client: ControlClient, env: NodeJS.ProcessEnv): Promise<void> {
  const wanted = Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && ENV_NAME.test(entry[0]));
  const held = (await client.command('show-environment -g')).map((line) => /^-?([^=]+)/.exec(line)?.[1] ?? '');
  // A name misread from a multi-line value is unknown to tmux: its error is of no consequence.
  const gone = held.filter((name) => ENV_NAME.test(name) && env[name] === undefined);
  await Promise.all([
    ...wanted.map(([name, value]) => client.command(`set-environment -g ${name} ${quoteWord(value)}`)),
    ...gone.map((name) => client.command(`set-environment -g -u ${name}`).catch(() => undefined)),
  ]);
}

/** new-session's `-e NAME=value` pairs, the names `env -u` removes, and the names to forget once the program runs. */
export function environmentChanges(
  env: Readonly<Record<string, string | null>>,
  sessionEnv: Readonly<Record<string, string>>,
): { additions: string[]; removals: string[]; transient: string[] } {
  const additions: string[] = [];
  const removals: string[] = [];
  const transient: string[] = [];
  for (const [key, value] of Object.entries({ ...env, ...sessionEnv })) {
    if (!ENV_NAME.test(key)) throw new TmuxError('invalid_request', `invalid environment variable name ${JSON.stringify(key)}`);
    if (value === null) removals.push(key);
    else if (value.includes('\0')) throw new TmuxError('invalid_request', `the value of ${key} contains a NUL byte`);
    else additions.push(`${key}=${value}`);
    if (value !== null && !Object.hasOwn(sessionEnv, key)) transient.push(key);
  }
  return { additions, removals, transient };
}
