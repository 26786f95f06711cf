/**
 * Splits a shell command line into the simple commands it runs, so that each
 * can be judged: `a && b`, `a || b`, `a; b`, `a | b`, `a & b`, newlines,
 * subshells `( ... )`, and the commands inside `$(...)`, `<(...)`, `>(...)`
 * and backticks. Quotes are respected and removed; nothing is ever evaluated.
 *
 * Each command is given as its words (quotes removed) joined by single
 * spaces, without leading `NAME=value` assignments, so `FOO=1 "rm" -rf x`
 * is judged as `rm -rf x`. An unterminated quote runs to the end of the text.
 */
export function splitShellCommands(text: string): string[] {
  const out: string[] = [];
  parse(text, 0, out, null);
  return out;
}

/** Parses from `start` until `closer` (`)` or a backtick) or the end; returns the index after the closer. */
function parse(text: string, start: number, out: string[], closer: ')' | '`' | null): number {
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let depth = 0; // plain `(` ... `)` subshell nesting inside this level
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    let i = 0;
    while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i] ?? '')) i++;
    const rest = words.slice(i);
    if (rest.length > 0) out.push(rest.join(' '));
    words = [];
  };
  let i = start;
  while (i < text.length) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (closer === '`' && c === '`') {
      endCommand();
      return i + 1;
    }
    if (closer === ')' && c === ')' && depth === 0) {
      endCommand();
      return i + 1;
    }
    if (c === '\\') {
      if (next === '\n') {
        i += 2; // line continuation
        continue;
      }
      word += next ?? '';
      inWord = true;
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word += end === -1 ? text.slice(i + 1) : text.slice(i + 1, end);
      inWord = true;
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    if (c === '"') {
      i = parseDoubleQuoted(text, i + 1, out, (s) => (word += s));
      inWord = true;
      continue;
    }
    if (c === '$' && next === '(') {
      // Command (or arithmetic) substitution: its commands are judged too; the outer word keeps a marker.
      i = parse(text, i + 2, out, ')');
      word += '$(...)';
      inWord = true;
      continue;
    }
    if ((c === '<' || c === '>') && next === '(') {
      i = parse(text, i + 2, out, ')');
      word += `${c}(...)`;
      inWord = true;
      continue;
    }
    if (c === '`') {
      i = parse(text, i + 1, out, '`');
      word += '`...`';
      inWord = true;
      continue;
    }
    if (c === '#' && !inWord) {
      // A comment runs to the end of the line.
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (c === ';' || c === '\n' || c === '\r') {
      endCommand();
      i += 1;
      continue;
    }
    if (c === '|') {
      endCommand();
      i += next === '|' || next === '&' ? 2 : 1;
      continue;
    }
    if (c === '&') {
      const prev = text[i - 1];
      if (next === '>' || (prev === '>' || prev === '<')) {
        // `&>file`, `2>&1`: a redirection, part of the word
        word += c;
        inWord = true;
        i += 1;
        continue;
      }
      endCommand();
      i += next === '&' ? 2 : 1;
      continue;
    }
    if (c === '(') {
      endCommand();
      depth += 1;
      i += 1;
      continue;
    }
    if (c === ')') {
      endCommand();
      if (depth > 0) depth -= 1;
      i += 1;
      continue;
    }
    if (c === ' ' || c === '\t') {
      endWord();
      i += 1;
      continue;
    }
    if ((c === '{' || c === '}') && !inWord && (next === undefined || /\s|;/.test(next))) {
      // Group braces `{ a; b; }` are not words of a command.
      endCommand();
      i += 1;
      continue;
    }
    word += c;
    inWord = true;
    i += 1;
  }
  endCommand();
  return i;
}

/** Inside double quotes: `\` escapes `"`, `\`, `$`, backtick; `$(...)` and backticks still run commands. */
function parseDoubleQuoted(text: string, start: number, out: string[], append: (s: string) => void): number {
  let i = start;
  while (i < text.length) {
    const c = text[i] as string;
    const next = text[i + 1];
    if (c === '"') return i + 1;
    if (c === '\\' && next !== undefined && '"\\$`\n'.includes(next)) {
      if (next !== '\n') append(next);
      i += 2;
      continue;
    }
    if (c === '$' && next === '(') {
      i = parse(text, i + 2, out, ')');
      append('$(...)');
      continue;
    }
    if (c === '`') {
      i = parse(text, i + 1, out, '`');
      append('`...`');
      continue;
    }
    append(c);
    i += 1;
  }
  return i;
}
