import { interpolate, parseTemplate, stringify, resolveReference, TemplateError, type InterpolationContext } from './interpolate.js';

/**
 * How a `shell` step's command becomes a process, with no shell injection.
 *
 * - `command: [argv...]`: each element is interpolated on its own and is one
 *   argument; no shell runs.
 * - `command: "a string"`: run as `sh -c SCRIPT codepiper-workflow V1 V2 ...`.
 *   Each `${...}` in the string is replaced in SCRIPT by a positional parameter
 *   (`"${1}"`, `"${2}"`, ...) and its value is passed as that argument. The
 *   value never becomes part of the script's text, so quotes, `;`, `$(...)` or
 *   backticks in it are data. The parameter is quoted for where it stands: bare
 *   → `"${1}"`, inside double quotes → `${1}`, inside single quotes → the
 *   quote is closed and reopened around `"${1}"`. A value is always one word.
 */
export interface ShellInvocation {
  file: string;
  args: string[];
}

type Quote = 'none' | 'single' | 'double';

/** The script with positional parameters, and the references in order; throws TemplateError. */
export function shellScript(command: string): { script: string; refs: string[][] } {
  const parts = parseTemplate(command);
  const refs: string[][] = [];
  let script = '';
  let quote: Quote = 'none';
  for (const part of parts) {
    if (part.kind === 'ref') {
      refs.push(part.ref.path);
      const n = refs.length;
      script += quote === 'none' ? `"\${${n}}"` : quote === 'double' ? `\${${n}}` : `'"\${${n}}"'`;
      continue;
    }
    const text = part.text;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      script += c;
      if (quote === 'single') {
        if (c === "'") quote = 'none';
      } else if (c === '\\' && i + 1 < text.length) {
        script += text[++i];
      } else if (c === '"') {
        quote = quote === 'double' ? 'none' : 'double';
      } else if (c === "'" && quote === 'none') {
        quote = 'single';
      }
    }
  }
  return { script, refs };
}

/** The process a shell step runs, with every value resolved against `context`. */
export function prepareShellCommand(command: string | readonly string[], context: InterpolationContext): ShellInvocation {
  if (typeof command !== 'string') {
    const [file, ...args] = command.map((arg) => interpolate(arg, context));
    if (file === undefined || file === '') throw new TemplateError('the command is empty', 0);
    return { file, args };
  }
  const { script, refs } = shellScript(command);
  return { file: 'sh', args: ['-c', script, 'codepiper-workflow', ...refs.map((path) => stringify(resolveReference(path, context)))] };
}
