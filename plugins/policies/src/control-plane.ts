/**
 * The built-in control-plane guard: a tool call that touches the daemon's
 * home (its database, keys, config, plugins' files), its socket or its tmux
 * server could change what the daemon allows, so a person decides (`ask`),
 * whatever the user's allow policies say. A user's deny still denies.
 *
 * A call touches the control plane when
 * - any string in its input that says where (not file contents: `content`,
 *   `old_string`, `new_string`, ...) names a path in the home (see
 *   home-paths.ts), or refers to `$CODEPIPER_HOME` or `$TMUX`;
 * - a command of a shell line runs the `codepiper` CLI (also through
 *   `npx`, `node`, `ssh`...), runs `tmux` on the daemon's server (`-S` with a
 *   socket in the home, or neither `-S` nor `-L`: inside a session `$TMUX`
 *   names the daemon's server), or walks a directory above the home
 *   recursively (`grep -r x ~`, `find /`, Claude's Grep on `~`).
 * Relative paths are resolved against the session's directory, a Glob/Grep
 * `path`, and every `cd` target in the line.
 */
import path from 'node:path';
import type { ShellCommand } from './shell-commands.js';
import { HomePaths, namesHomeVariable, type HomeLayout } from './home-paths.js';
import type { Word } from './shell-words.js';

export const CONTROL_PLANE_GUARD = 'builtin:control-plane-guard';
/** The rule the guard decides by, as `policy test` and the audit trail show it. */
export const CONTROL_PLANE_RULE = "built-in: calls that touch the daemon's home or socket, run codepiper or drive its tmux server";
export const CONTROL_PLANE_REASON =
  "Asks a person before a tool call touches the daemon's home or socket (its database, keys, config), runs the codepiper CLI or drives its tmux server; comes before allow policies";

/** Input fields that hold what is written or said, not where: never read for paths. */
const CONTENT_FIELDS = new Set(['content', 'old_string', 'new_string', 'new_source', 'description', 'prompt', 'todos', 'plan']);
const MAX_DEPTH = 6;

/** Programs that run a command or script named among their arguments (`npx codepiper`, `node .../codepiper`). */
const RUNNERS = new Set([
  'node', 'nodejs', 'bun', 'bunx', 'deno', 'npx', 'pnpx', 'pnpm', 'npm', 'yarn', 'tsx', 'ts-node', 'ssh', 'script', 'flock', 'parallel',
  'strace', 'ltrace', 'unbuffer', 'systemd-run', 'su', 'runuser', 'setpriv', 'firejail', 'ionice', 'taskset', 'chrt', 'valgrind', 'gdb',
]);
const CLI_WORD = /(?:^|[\s/(`'"])(?:codepiper(?:\.[cm]?js)?|@codepiper\/cli)(?:$|[\s/)`'"])/;

/** Programs that walk a directory tree: always, or with an option matching the pattern. */
const RECURSIVE: Readonly<Record<string, true | RegExp>> = {
  find: true, rg: true, ag: true, ack: true, fd: true, fdfind: true, du: true, tree: true, tar: true, zip: true, rsync: true,
  grep: /^(?:-[A-Za-z]*[rR]|--recursive|--dereference-recursive|--directories=recurse)$/,
  egrep: /^(?:-[A-Za-z]*[rR]|--recursive)$/,
  fgrep: /^(?:-[A-Za-z]*[rR]|--recursive)$/,
  cp: /^(?:-[A-Za-z]*[rRa]|--recursive|--archive)$/,
  scp: /^-[A-Za-z]*r$/,
  rm: /^(?:-[A-Za-z]*[rR]|--recursive)$/,
  chmod: /^(?:-[A-Za-z]*R|--recursive)$/,
  chown: /^(?:-[A-Za-z]*R|--recursive)$/,
  chgrp: /^(?:-[A-Za-z]*R|--recursive)$/,
  ls: /^(?:-[A-Za-z]*R|--recursive)$/,
};

export interface ControlPlaneCall {
  tool: string;
  input: unknown;
  /** The directory relative paths are relative to (the session's), when known. */
  cwd?: string | null;
}

/** What the call touched, for a person; and which commands of a shell line did. */
export interface Touch {
  what: string;
  parts: number[];
}

export interface ControlPlaneLayout extends HomeLayout {
  /** tmux's socket directory (`$TMUX_TMPDIR/tmux-UID`), where `-L NAME` sockets are. */
  tmuxDir: string;
}

export class ControlPlaneGuard {
  readonly paths: HomePaths;

  constructor(
    private readonly layout: ControlPlaneLayout,
    caseInsensitive?: boolean,
  ) {
    this.paths = new HomePaths(layout, caseInsensitive);
  }

  /** What the call touches, or undefined. `shell`: the field holding a shell line and its commands, for Bash. */
  inspect(call: ControlPlaneCall, shell?: { field: string; commands: readonly ShellCommand[] }): Touch | undefined {
    const input = typeof call.input === 'object' && call.input !== null ? (call.input as Record<string, unknown>) : {};
    const bases = this.bases(call, input, shell?.commands ?? []);
    const parts: number[] = [];
    let what: string | undefined;
    for (const [i, command] of (shell?.commands ?? []).entries()) {
      const found = this.command(command, bases);
      if (found === undefined) continue;
      parts.push(i);
      what ??= found;
    }
    what ??= this.strings(input, bases) ?? this.walks(call.tool, input, bases);
    return what === undefined ? undefined : { what, parts };
  }

  /** Directories a relative path may be relative to: the session's, a `path` input, each `cd` target. */
  private bases(call: ControlPlaneCall, input: Record<string, unknown>, commands: readonly ShellCommand[]): string[] {
    const cwd = typeof call.cwd === 'string' && path.isAbsolute(call.cwd) ? [call.cwd] : [];
    const out = new Set(cwd);
    if (typeof input.path === 'string') for (const p of this.paths.resolve(input.path, cwd)) out.add(p);
    for (const command of commands) {
      const [program, target] = command.words ?? [];
      if (program?.value !== 'cd' && program?.value !== 'pushd') continue;
      const dir = target === undefined || target.value === '--' ? '~' : target.value;
      for (const p of this.paths.resolve(dir, [...out])) out.add(p);
    }
    return [...out];
  }

  private command(command: ShellCommand, bases: readonly string[]): string | undefined {
    const words = command.words ?? [];
    const program = path.basename(words[0]?.value ?? '');
    const shown = short(command.text);
    if (CLI_WORD.test(program) || (RUNNERS.has(program) && words.slice(1).some((w) => CLI_WORD.test(w.value)))) {
      return `\`${shown}\` runs the codepiper CLI, which drives the daemon`;
    }
    if (program === 'tmux') {
      const server = this.tmuxServer(words.slice(1), bases);
      if (server !== undefined) return `\`${shown}\` ${server}`;
    }
    for (const text of [...words.map((w) => w.value), command.text]) {
      const found = this.text(text, bases);
      if (found !== undefined) return found;
    }
    const rule = RECURSIVE[program];
    if (rule !== undefined && (rule === true || words.some((w) => rule.test(w.value)))) {
      const start = words.slice(1).find((w) => !w.value.startsWith('-') && this.paths.resolve(w.value, bases).some((p) => this.paths.above(p)));
      if (start) return `\`${shown}\` walks \`${start.value}\`, which holds the daemon's home (${this.layout.home})`;
    }
    return undefined;
  }

  /** Whether tmux's global options (before its command) point it at the daemon's server. */
  private tmuxServer(args: readonly Word[], bases: readonly string[]): string | undefined {
    let socket: Word | undefined;
    let label: Word | undefined;
    for (let i = 0; i < args.length; i++) {
      const word = args[i] as Word;
      if (!word.value.startsWith('-') || word.value === '-' || word.value === '--') break;
      for (let j = 1; j < word.value.length; j++) {
        const letter = word.value[j] as string;
        if (!'cfLST'.includes(letter)) continue;
        const attached = word.value.slice(j + 1);
        const value = attached === '' ? args[++i] : { ...word, value: attached };
        if (letter === 'S') socket = value;
        if (letter === 'L') label = value;
        break;
      }
    }
    if (socket !== undefined) {
      if (!socket.literal) return 'gives tmux a socket that is only known when the line runs';
      return this.paths.resolve(socket.value, bases).some((p) => this.paths.inside(p) !== undefined) ? "drives the daemon's tmux server (its socket is in the daemon's home)" : undefined;
    }
    if (label !== undefined) {
      const inHome = this.paths.resolve(label.value, [this.layout.tmuxDir]).some((p) => this.paths.inside(p) !== undefined);
      return !label.literal || inHome ? "may drive the daemon's tmux server (its -L socket is not known to be elsewhere)" : undefined;
    }
    return "drives the tmux server the session runs in, which is the daemon's ($TMUX names it; give -S or -L for another server)";
  }

  /** A path in the home, `$CODEPIPER_HOME` or `$TMUX` in a piece of text. */
  private text(text: string, bases: readonly string[]): string | undefined {
    if (namesHomeVariable(text)) return "`$CODEPIPER_HOME` names the daemon's home";
    if (/\$\{?TMUX\b/.test(text)) return "`$TMUX` names the socket of the daemon's tmux server";
    const found = this.paths.findIn(text, bases);
    if (found === undefined) return undefined;
    return `\`${short(found.written)}\` ${found.exact ? 'is' : 'is in'} the daemon's home (${this.layout.home})`;
  }

  /** Every string of the input that may say where, however deep. */
  private strings(value: unknown, bases: readonly string[], depth = 0): string | undefined {
    if (typeof value === 'string') return this.text(value, bases);
    if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return undefined;
    for (const [key, inner] of Object.entries(value)) {
      if (CONTENT_FIELDS.has(key)) continue;
      const found = this.strings(inner, bases, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Claude's Grep (recursive) and a Glob with `**` on a directory above the home. */
  private walks(tool: string, input: Record<string, unknown>, bases: readonly string[]): string | undefined {
    const recursive = tool === 'Grep' || (tool === 'Glob' && typeof input.pattern === 'string' && input.pattern.includes('**'));
    if (!recursive || typeof input.path !== 'string') return undefined;
    return this.paths.resolve(input.path, bases).some((p) => this.paths.above(p)) ? `${tool} walks \`${input.path}\`, which holds the daemon's home (${this.layout.home})` : undefined;
  }
}

const short = (text: string): string => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
};
