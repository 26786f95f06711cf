import { describeError } from './errors.js';

export const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Many lines in one write, waiting while stdout is full: a long listing stays quick and small. */
export async function printLines(lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  if (!process.stdout.write(`${lines.join('\n')}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

/** Bytes as they are, waiting while stdout is full. */
export async function printBytes(bytes: Uint8Array): Promise<void> {
  if (!process.stdout.write(bytes)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

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
