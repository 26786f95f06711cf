/**
 * A shell word as the command will receive it: quotes removed, `\` escapes
 * and ANSI-C quoting (`$'\x72m'` is `rm`) decoded. What only the running
 * shell knows (`$HOME`, `$(date)`, `*.ts`) is kept as written, and the word
 * says so.
 */
import type { SyntaxNode } from './bash-grammar.js';

export interface Word {
  /** After quote removal; a part only known at run time is kept as written. */
  value: string;
  /** As written in the line. */
  raw: string;
  /** Known before the line runs: no expansion, substitution or pattern in it. */
  literal: boolean;
  /** Stays exactly one word: nothing unquoted that word splitting, a pattern or a brace could turn into several, or none. */
  single: boolean;
}

export const literalWord = (value: string): Word => ({ value, raw: value, literal: true, single: true });

/** The word a node of the syntax tree makes; `source` is the text the tree was parsed from. */
export function wordOf(node: SyntaxNode, source: string): Word {
  const raw = source.slice(node.start, node.end);
  switch (node.type) {
    case 'word': {
      const { value, pattern } = unquoted(raw);
      return { value, raw, literal: !pattern, single: !pattern };
    }
    case 'number':
      return literalWord(raw);
    case 'raw_string':
      return literalWord(raw.slice(1, -1));
    case 'ansi_c_string':
      return literalWord(decodeAnsiC(raw.slice(2, -1)));
    case 'string':
      return doubleQuoted(node, source);
    case 'translated_string': {
      const inner = node.children.find((c) => c.type === 'string');
      return inner ? { ...doubleQuoted(inner, source), raw } : { value: raw, raw, literal: false, single: false };
    }
    case 'concatenation': {
      const parts = node.children.map((c) => wordOf(c, source));
      return { value: parts.map((p) => p.value).join(''), raw, literal: parts.every((p) => p.literal), single: parts.every((p) => p.single) };
    }
    case 'process_substitution':
      // Always one word: a /dev/fd path.
      return { value: raw, raw, literal: false, single: true };
    default:
      // $VAR, ${...}, $(...), $((...)), {a..z} and anything unforeseen: only known at run time.
      return { value: raw, raw, literal: false, single: false };
  }
}

/** Text outside quotes: `\x` is `x`, `\`+newline joins lines; an unescaped `*`, `?`, `[` or `{a,b}` is a pattern. */
function unquoted(text: string): { value: string; pattern: boolean } {
  let value = '';
  let pattern = false;
  let brace = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[++i];
      if (next !== undefined && next !== '\n') value += next;
      continue;
    }
    if (c === '*' || c === '?' || c === '[') pattern = true;
    else if (c === '{') brace = i;
    else if (c === '}' && brace !== -1 && /,|\.\./.test(text.slice(brace, i))) pattern = true;
    value += c;
  }
  return { value, pattern };
}

function doubleQuoted(node: SyntaxNode, source: string): Word {
  const raw = source.slice(node.start, node.end);
  let value = '';
  let literal = true;
  let at = node.start + raw.indexOf('"') + 1;
  const text = (from: number, to: number) => {
    if (to > from) value += source.slice(from, to).replace(/\\([$`"\\\n])/g, (_, c: string) => (c === '\n' ? '' : c));
  };
  for (const child of node.children) {
    if (!child.named) continue;
    text(at, child.start);
    if (child.type === 'string_content') text(child.start, child.end);
    else {
      value += source.slice(child.start, child.end);
      literal = false;
    }
    at = child.end;
  }
  text(at, node.end - 1);
  return { value, raw, literal, single: true };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };

/** The body of `$'...'` as bash decodes it. */
export function decodeAnsiC(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\' || i + 1 >= body.length) {
      out += c;
      continue;
    }
    const e = body[++i] as string;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const digits = (re: RegExp, max: number): string => {
      let d = '';
      while (d.length < max && i + 1 < body.length && re.test(body[i + 1] as string)) d += body[++i];
      return d;
    };
    if (/[0-7]/.test(e)) {
      out += String.fromCharCode(parseInt(e + digits(/[0-7]/, 2), 8) & 0xff);
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const hex = digits(/[0-9a-fA-F]/, e === 'x' ? 2 : e === 'u' ? 4 : 8);
      out += hex === '' ? `\\${e}` : String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff));
    } else if (e === 'c' && i + 1 < body.length) {
      out += String.fromCharCode((body[++i] as string).toUpperCase().charCodeAt(0) & 0x1f);
    } else {
      out += `\\${e}`;
    }
  }
  return out;
}
