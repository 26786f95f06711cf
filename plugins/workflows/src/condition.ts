import vm from 'node:vm';
import { interpolate, parseTemplate, resolveReference, stringify, TemplateError, type InterpolationContext } from './interpolate.js';

/*
 * Conditions: a small grammar, tokenized and parsed by hand, evaluated over a
 * context of step outputs, vars and env. Never `eval`.
 *
 *   condition  := or
 *   or         := and ( "or" and )*
 *   and        := unary ( "and" unary )*
 *   unary      := "not" unary | primary
 *   primary    := "(" condition ")" | operand [ compare-op operand | "matches" REGEX ]
 *   compare-op := "contains" | "not" "contains" | "==" | "!=" | "<" | ">"
 *   operand    := STRING | NUMBER | REFERENCE | "true" | "false"
 *   STRING     := '...' | "..."   (escapes \\ \' \" \n \t; ${...} inside is interpolated)
 *   REFERENCE  := ${step.result} | ${vars.name} | ${env.NAME} | ${item}
 *   REGEX      := /source/flags   (flags from i m s u; \/ for a slash)
 *
 * An operand alone is a test: true unless it is "", "false", "0" or 0.
 */

export type CompareOp = 'contains' | 'not contains' | '==' | '!=' | '<' | '>';

export type Operand =
  | { kind: 'string'; value: string; start: number }
  | { kind: 'number'; value: number; start: number }
  | { kind: 'ref'; path: string[]; start: number };

export type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; operand: Condition }
  | { kind: 'compare'; op: CompareOp; left: Operand; right: Operand }
  | { kind: 'matches'; operand: Operand; source: string; flags: string; start: number }
  | { kind: 'test'; operand: Operand };

export class ConditionError extends Error {
  constructor(
    message: string,
    /** Offset in the condition text where the problem is. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ConditionError';
  }
}

type Token =
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'number'; value: number; start: number; end: number }
  | { kind: 'ref'; path: string[]; start: number; end: number }
  | { kind: 'regex'; source: string; flags: string; start: number; end: number }
  | { kind: 'word'; value: string; start: number; end: number }
  | { kind: 'op'; value: '==' | '!=' | '<' | '>' | '(' | ')'; start: number; end: number }
  | { kind: 'end'; start: number; end: number };

const KEYWORDS = new Set(['and', 'or', 'not', 'contains', 'matches', 'true', 'false']);
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t' };

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the condition';
    case 'string':
      return `the string ${JSON.stringify(token.value)}`;
    case 'number':
      return `the number ${token.value}`;
    case 'ref':
      return `\${${token.path.join('.')}}`;
    case 'regex':
      return 'a regular expression';
    default:
      return `"${token.value}"`;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const start = i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ConditionError(`unterminated string: no closing ${c}`, start);
        const d = text[i] as string;
        if (d === c) break;
        if (d === '\\') {
          const escaped = ESCAPES[text[i + 1] ?? ''];
          if (escaped === undefined) throw new ConditionError(`unknown escape "\\${text[i + 1] ?? ''}" in a string`, i);
          value += escaped;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', value, start, end: i });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const match = /^-?\d+(\.\d+)?/.exec(text.slice(i)) as RegExpExecArray;
      i += match[0].length;
      if (/[A-Za-z_]/.test(text[i] ?? '')) throw new ConditionError(`unexpected "${text[i]}" after the number ${match[0]}`, i);
      tokens.push({ kind: 'number', value: Number(match[0]), start, end: i });
    } else if (text.startsWith('${', i)) {
      const close = text.indexOf('}', i);
      if (close < 0) throw new ConditionError('"${" without a closing "}"', start);
      let path: string[];
      try {
        const parts = parseTemplate(text.slice(i, close + 1));
        if (parts.length !== 1 || parts[0]?.kind !== 'ref') throw new TemplateError('bad reference', 0);
        path = parts[0].ref.path;
      } catch (error) {
        throw new ConditionError(error instanceof Error ? error.message : String(error), start);
      }
      i = close + 1;
      tokens.push({ kind: 'ref', path, start, end: i });
    } else if (c === '/' && tokens.at(-1)?.kind === 'word' && (tokens.at(-1) as { value: string }).value === 'matches') {
      let source = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ConditionError('unterminated regular expression: no closing /', start);
        const d = text[i] as string;
        if (d === '/') break;
        if (d === '\\' && text[i + 1] === '/') {
          source += '/';
          i += 2;
          continue;
        }
        if (d === '\\' && i + 1 < text.length) {
          source += d + text[i + 1];
          i += 2;
          continue;
        }
        source += d;
        i++;
      }
      i++;
      const flags = /^[A-Za-z]*/.exec(text.slice(i))?.[0] ?? '';
      const flagsAt = i;
      i += flags.length;
      const bad = [...flags].find((f) => !'imsu'.includes(f));
      if (bad !== undefined) throw new ConditionError(`unsupported regular expression flag "${bad}" (use i, m, s, u)`, flagsAt + flags.indexOf(bad));
      if (new Set(flags).size !== flags.length) throw new ConditionError('a regular expression flag is repeated', flagsAt);
      try {
        new RegExp(source, flags);
      } catch (error) {
        throw new ConditionError(`bad regular expression: ${(error as Error).message}`, start);
      }
      tokens.push({ kind: 'regex', source, flags, start, end: i });
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i))?.[0] as string;
      i += word.length;
      if (!KEYWORDS.has(word)) {
        throw new ConditionError(`unexpected word "${word}": quote text ('${word}'), write references as \${...}, or use and, or, not, contains, matches`, start);
      }
      tokens.push({ kind: 'word', value: word, start, end: i });
    } else if (text.startsWith('==', i) || text.startsWith('!=', i)) {
      i += 2;
      tokens.push({ kind: 'op', value: text.slice(start, i) as '==' | '!=', start, end: i });
    } else if (c === '<' || c === '>' || c === '(' || c === ')') {
      i++;
      tokens.push({ kind: 'op', value: c, start, end: i });
    } else if (c === '=') {
      throw new ConditionError('"=" is not an operator; write "==" to compare', start);
    } else if (c === '&' || c === '|' || c === '!') {
      throw new ConditionError(`"${c}" is not an operator; write and, or, not`, start);
    } else {
      throw new ConditionError(`unexpected character "${c}"`, start);
    }
  }
  tokens.push({ kind: 'end', start: text.length, end: text.length });
  return tokens;
}

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  private get token(): Token {
    return this.tokens[this.index] as Token;
  }

  private peek(offset = 1): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }

  private isWord(token: Token, value: string): boolean {
    return token.kind === 'word' && token.value === value;
  }

  private isOp(token: Token, value: string): boolean {
    return token.kind === 'op' && token.value === value;
  }

  parse(): Condition {
    const condition = this.or();
    if (this.token.kind !== 'end') throw new ConditionError(`unexpected ${describe(this.token)}: expected and, or, or the end`, this.token.start);
    return condition;
  }

  private or(): Condition {
    let left = this.and();
    while (this.isWord(this.token, 'or')) {
      this.index++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Condition {
    let left = this.unary();
    while (this.isWord(this.token, 'and')) {
      this.index++;
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): Condition {
    if (this.isWord(this.token, 'not')) {
      this.index++;
      return { kind: 'not', operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): Condition {
    if (this.isOp(this.token, '(')) {
      const open = this.token;
      this.index++;
      const inner = this.or();
      if (!this.isOp(this.token, ')')) {
        throw new ConditionError(`expected ")" to close the "(" at column ${open.start + 1}, found ${describe(this.token)}`, this.token.start);
      }
      this.index++;
      return inner;
    }
    const left = this.operand();
    const token = this.token;
    if (this.isWord(token, 'contains')) {
      this.index++;
      return { kind: 'compare', op: 'contains', left, right: this.operand() };
    }
    if (this.isWord(token, 'not') && this.isWord(this.peek(), 'contains')) {
      this.index += 2;
      return { kind: 'compare', op: 'not contains', left, right: this.operand() };
    }
    if (token.kind === 'op' && (token.value === '==' || token.value === '!=' || token.value === '<' || token.value === '>')) {
      this.index++;
      return { kind: 'compare', op: token.value, left, right: this.operand() };
    }
    if (this.isWord(token, 'matches')) {
      this.index++;
      const regex = this.token;
      if (regex.kind !== 'regex') throw new ConditionError(`expected a regular expression /.../ after matches, found ${describe(regex)}`, regex.start);
      this.index++;
      return { kind: 'matches', operand: left, source: regex.source, flags: regex.flags, start: regex.start };
    }
    return { kind: 'test', operand: left };
  }

  private operand(): Operand {
    const token = this.token;
    this.index++;
    switch (token.kind) {
      case 'string':
        return { kind: 'string', value: token.value, start: token.start };
      case 'number':
        return { kind: 'number', value: token.value, start: token.start };
      case 'ref':
        return { kind: 'ref', path: token.path, start: token.start };
      case 'word':
        if (token.value === 'true' || token.value === 'false') return { kind: 'string', value: token.value, start: token.start };
        break;
      default:
        break;
    }
    throw new ConditionError(`expected a value (a 'string', a number or \${...}), found ${describe(token)}`, token.start);
  }
}

/** Parses a condition; throws ConditionError with the offset of the problem. */
export function parseCondition(text: string): Condition {
  if (text.trim() === '') throw new ConditionError('the condition is empty', 0);
  const condition = new Parser(tokenize(text)).parse();
  // Templates inside string literals must be well formed too.
  for (const operand of operands(condition)) {
    if (operand.kind === 'string') {
      try {
        parseTemplate(operand.value);
      } catch (error) {
        throw new ConditionError((error as Error).message, operand.start);
      }
    }
  }
  return condition;
}

function operands(condition: Condition): Operand[] {
  switch (condition.kind) {
    case 'and':
    case 'or':
      return [...operands(condition.left), ...operands(condition.right)];
    case 'not':
      return operands(condition.operand);
    case 'compare':
      return [condition.left, condition.right];
    case 'matches':
    case 'test':
      return [condition.operand];
  }
}

/** Every reference a condition makes, with the offset of its operand in the condition text. */
export function conditionReferences(condition: Condition): { path: string[]; offset: number }[] {
  return operands(condition).flatMap((operand) => {
    if (operand.kind === 'ref') return [{ path: operand.path, offset: operand.start }];
    if (operand.kind === 'string') {
      return parseTemplate(operand.value).flatMap((part) => (part.kind === 'ref' ? [{ path: part.ref.path, offset: operand.start }] : []));
    }
    return [];
  });
}

export class ConditionEvaluationError extends Error {
  override readonly name = 'ConditionEvaluationError';
}

function valueOf(operand: Operand, context: InterpolationContext): string | number {
  switch (operand.kind) {
    case 'number':
      return operand.value;
    case 'string':
      return interpolate(operand.value, context);
    case 'ref': {
      const value = resolveReference(operand.path, context);
      return typeof value === 'number' ? value : stringify(value);
    }
  }
}

const asNumber = (value: string | number): number | undefined => {
  if (typeof value === 'number') return value;
  const trimmed = value.trim();
  return trimmed !== '' && /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : undefined;
};

const truthy = (value: string | number): boolean =>
  typeof value === 'number' ? value !== 0 : !['', 'false', '0'].includes(value.trim().toLowerCase());

/**
 * Evaluates a parsed condition (or its text). `==` and `!=` compare numbers
 * when both sides are numbers, else text with surrounding whitespace trimmed;
 * `<` and `>` need numbers; `contains` and `matches` work on the text as is,
 * case-sensitively unless the regular expression has the `i` flag.
 */
/** How long one `matches` may run: a pattern that backtracks without end fails its step instead of freezing the daemon. */
export const REGEX_TIME_LIMIT_MS = 1000;
let regexSandbox: vm.Context | undefined;

function boundedTest(regex: RegExp, text: string): boolean {
  regexSandbox ??= vm.createContext({});
  Object.assign(regexSandbox, { regex, text });
  try {
    return vm.runInContext('regex.test(text)', regexSandbox, { timeout: REGEX_TIME_LIMIT_MS }) as boolean;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error;
    throw new ConditionEvaluationError(`matches /${regex.source}/ ran longer than ${REGEX_TIME_LIMIT_MS} ms on ${text.length} characters: simplify the pattern`);
  } finally {
    Object.assign(regexSandbox, { regex: undefined, text: undefined });
  }
}

export function evaluateCondition(condition: Condition | string, context: InterpolationContext): boolean {
  const node = typeof condition === 'string' ? parseCondition(condition) : condition;
  switch (node.kind) {
    case 'and':
      return evaluateCondition(node.left, context) && evaluateCondition(node.right, context);
    case 'or':
      return evaluateCondition(node.left, context) || evaluateCondition(node.right, context);
    case 'not':
      return !evaluateCondition(node.operand, context);
    case 'test':
      return truthy(valueOf(node.operand, context));
    case 'matches':
      return boundedTest(new RegExp(node.source, node.flags), String(valueOf(node.operand, context)));
    case 'compare': {
      const left = valueOf(node.left, context);
      const right = valueOf(node.right, context);
      switch (node.op) {
        case 'contains':
          return String(left).includes(String(right));
        case 'not contains':
          return !String(left).includes(String(right));
        case '==':
        case '!=': {
          const l = asNumber(left);
          const r = asNumber(right);
          const equal = l !== undefined && r !== undefined ? l === r : String(left).trim() === String(right).trim();
          return node.op === '==' ? equal : !equal;
        }
        case '<':
        case '>': {
          const l = asNumber(left);
          const r = asNumber(right);
          if (l === undefined || r === undefined) {
            throw new ConditionEvaluationError(`"${node.op}" compares numbers, not ${JSON.stringify(l === undefined ? left : right)}`);
          }
          return node.op === '<' ? l < r : l > r;
        }
      }
    }
  }
}
