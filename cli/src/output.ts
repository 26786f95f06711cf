import { describeError } from './errors.js';

export const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** The API's JSON, exactly, pretty-printed. */
export const printJson = (value: unknown): void => print(JSON.stringify(value, null, 2));

/** Prints `value` as JSON with `--json`, else as `describe` tells. */
export function printResult<T>(value: T, json: boolean | undefined, describe: (value: T) => string): void {
  if (json) printJson(value);
  else print(describe(value));
}

/** Terminal text (screen, scrollback) without its trailing blank lines. */
export const printText = (text: string): void => print(text.replace(/\s+$/, ''));

/** Prints `codepiper: <message>` on stderr; returns the exit code. */
export function reportError(error: unknown, helpCommand: string): number {
  const { message, exitCode } = describeError(error, helpCommand);
  process.stderr.write(`codepiper: ${message}\n`);
  return exitCode;
}
