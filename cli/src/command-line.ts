/*
 * How cac reads our command lines: words it must not turn into numbers, and
 * what a command accepts beyond its options. Nothing here needs the SDK, so
 * every command line can load it before knowing which command it runs.
 */
import type { Command } from 'cac';

/*
 * cac parses with mri, which turns every option value (and every word after a
 * boolean flag) that looks like a number into one: `-n 007` gives 7, `show
 * --json 0123` gives the id 123. Names and id prefixes must stay as typed, so
 * such words are marked with a leading NUL (argv can never contain one) before
 * parsing, and the mark is removed from what cac returns.
 */
const MARK = '\0';
const looksNumeric = (word: string): boolean => Number(word) * 0 === 0;

export function protectWords(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((word, i) => {
    if (end !== -1 && i > end) return word;
    if (!word.startsWith('-')) return looksNumeric(word) ? MARK + word : word;
    const eq = word.indexOf('=');
    return eq !== -1 && looksNumeric(word.slice(eq + 1)) ? `${word.slice(0, eq + 1)}${MARK}${word.slice(eq + 1)}` : word;
  });
}

export function unprotect<T>(value: T): T {
  if (typeof value === 'string') return (value.startsWith(MARK) ? value.slice(1) : value) as T;
  if (Array.isArray(value)) return value.map(unprotect) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unprotect(inner)])) as T;
  }
  return value;
}

/* Commands that use the words after `--`; for the others such words are an error. */
const restTakers = new WeakSet<Command>();

export function takesRest(command: Command): Command {
  restTakers.add(command);
  return command;
}

export const acceptsRest = (command: Command): boolean => restTakers.has(command);

/* The actions a command takes as its first argument (`daemon stop`), for shell completion. */
const actionLists = new WeakMap<Command, readonly string[]>();

export function withActions(command: Command, actions: readonly string[]): Command {
  actionLists.set(command, actions);
  return command;
}

export const actionsOf = (command: Command): readonly string[] => actionLists.get(command) ?? [];

/**
 * Leaves the `--no-x` option just declared without a default: cac would show
 * it as "(default: true)", which reads as if the flag were on. Without the
 * flag the option is undefined, and the API's default applies.
 */
export function withoutDefault(command: Command): Command {
  command.options.at(-1)!.config.default = undefined;
  return command;
}

/** The command a command line names: its first word that is not an option. */
export const firstWord = (argv: readonly string[]): string | undefined => argv.find((arg) => !arg.startsWith('-'));
