/**
 * `${...}` references in strings: `${step.result}`, `${step.exit_code}`,
 * `${step.output}`, `${vars.name}`, `${env.NAME}`, and inside a `foreach`
 * the loop variable `${item}` (or `${item.field}` for an item that is a map).
 * `$${` writes a literal `${`. A reference is a dotted path of names
 * (letters, digits, `_`, `-`); nothing else, so there is nothing to evaluate.
 */

export interface Reference {
  /** The dotted path, e.g. `["run-tests", "result"]`. */
  path: string[];
  /** The text between `${` and `}`. */
  text: string;
  /** Offset of the `$` in the template. */
  start: number;
  /** Offset just after the closing `}`. */
  end: number;
}

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'ref'; ref: Reference };

export class TemplateError extends Error {
  constructor(
    message: string,
    /** Offset in the template where the problem is. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Splits a template into literal text and references; throws TemplateError on a malformed `${`. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    if (template.startsWith('$${', i)) {
      text += '${';
      i += 3;
      continue;
    }
    if (template.startsWith('${', i)) {
      const close = template.indexOf('}', i + 2);
      if (close < 0) throw new TemplateError('"${" without a closing "}" (write "$${" for a literal "${")', i);
      const inner = template.slice(i + 2, close);
      const path = inner.trim().split('.');
      if (inner.trim() === '' || !path.every((segment) => NAME.test(segment))) {
        throw new TemplateError(`bad reference "\${${inner}}": expected a dotted name such as \${step.result}, \${vars.name} or \${env.NAME}`, i);
      }
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'ref', ref: { path, text: inner.trim(), start: i, end: close + 1 } });
      i = close + 1;
      continue;
    }
    text += template[i];
    i += 1;
  }
  if (text) parts.push({ kind: 'text', text });
  return parts;
}

/** What references resolve against at run time. */
export interface InterpolationContext {
  /** Outputs of the steps that have run, by step id: `{ result, output, exit_code, ... }`. */
  steps: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  vars: Readonly<Record<string, unknown>>;
  env: Readonly<Record<string, string | undefined>>;
  /** Loop variables of the enclosing `foreach` steps, innermost last wins. */
  locals?: Readonly<Record<string, unknown>>;
}

export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
}

const walk = (value: unknown, path: readonly string[], whole: string): unknown => {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) {
      throw new InterpolationError(`\${${whole}} has no value`);
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
};

/**
 * The value a reference names. `${env.NAME}` of an unset variable is the
 * empty string; any other missing value is an error (the validator rules out
 * the ones it can see statically).
 */
export function resolveReference(path: readonly string[], context: InterpolationContext): unknown {
  const whole = path.join('.');
  const [head, ...rest] = path as [string, ...string[]];
  if (context.locals && Object.hasOwn(context.locals, head)) return walk(context.locals[head], rest, whole);
  if (head === 'env') {
    if (rest.length !== 1) throw new InterpolationError(`\${${whole}}: write \${env.NAME}`);
    return context.env[rest[0] as string] ?? '';
  }
  if (head === 'vars') {
    if (rest.length === 0) throw new InterpolationError(`\${${whole}}: write \${vars.name}`);
    return walk(context.vars, rest, whole);
  }
  if (!Object.hasOwn(context.steps, head)) throw new InterpolationError(`\${${whole}}: step "${head}" has not run`);
  return walk(context.steps[head], rest, whole);
}

/** A value as text: strings as they are, null/undefined as "", numbers and booleans by String, the rest as JSON. */
export function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** Replaces every `${...}` of `template` with its value as text. Throws InterpolationError or TemplateError. */
export function interpolate(template: string, context: InterpolationContext): string {
  return parseTemplate(template)
    .map((part) => (part.kind === 'text' ? part.text : stringify(resolveReference(part.ref.path, context))))
    .join('');
}

/**
 * A template that is exactly one reference (`items: ${vars.dirs}`) resolves to
 * the value itself, not its text, so a list stays a list.
 */
export function interpolateValue(template: string, context: InterpolationContext): unknown {
  const parts = parseTemplate(template);
  if (parts.length === 1 && parts[0]?.kind === 'ref') return resolveReference(parts[0].ref.path, context);
  return interpolate(template, context);
}
