/**
 * The commands a shell line runs, found in its bash syntax tree: every simple
 * command anywhere (lists, pipelines, subshells, groups, if/while/until/for/
 * case bodies, function bodies, `$(...)`, backticks, `<(...)`, here-documents),
 * each as its words after quote removal. Wrappers are seen through (`sudo rm x`
 * is `sudo rm x` and `rm x`), and shell strings are parsed in turn
 * (`bash -c 'rm x'`, `eval`, `trap`, `watch`). Nothing is ever run.
 *
 * A command that will run but cannot be known before the line runs (its name
 * is `$CMD`, `eval "$x"`, `source f`, a shell reading a pipe, a line that
 * does not parse) comes out as unknown, with the reason.
 */
import { parseBash, type SyntaxNode } from './bash-grammar.js';
import { literalWord, wordOf, type Word } from './shell-words.js';
import { runsCode, VariableValues } from './variables.js';
import { WRAPPERS, type Stdin } from './wrappers.js';

export interface ShellCommand {
  /** The words as the command gets them, joined by single spaces; a program given by path is named by its file name (`/bin/rm x` is `rm x`). */
  text: string;
  /** Why what runs here cannot be known before the line runs; absent when it can. */
  unknown?: string;
  /** The words: the program as written (`/bin/rm`), then its arguments; absent for a line or string judged whole. */
  words?: readonly Word[];
}

/** Shell strings inside shell strings (`bash -c "eval 'sh -c ...'"`) are followed this deep. */
const MAX_DEPTH = 8;

export function shellCommands(line: string): ShellCommand[] {
  const out: ShellCommand[] = [];
  analyze(line, 0, out);
  return out;
}

function analyze(script: string, depth: number, out: ShellCommand[]): void {
  if (depth > MAX_DEPTH) {
    out.push({ text: oneLine(script), unknown: 'shell strings are nested too deeply to follow' });
    return;
  }
  const { root, hasError } = parseBash(script);
  const walker = new Walker(script, depth, out);
  walker.visit(root, null);
  if (hasError) out.push({ text: oneLine(script), unknown: `the line does not parse as shell${nearError(root, script)}` });
  const read = walker.variables.firstUnknownRead();
  if (read !== undefined) {
    const what = read === '$(...)' ? 'the output of a command substitution' : `\`${read}\``;
    out.push({ text: oneLine(script), unknown: `arithmetic evaluates ${what}, whose value (which can run commands) is only known when the line runs` });
  }
}

const oneLine = (text: string): string => text.trim().replace(/\s+/g, ' ');

function nearError(node: SyntaxNode, source: string): string {
  const find = (n: SyntaxNode): SyntaxNode | undefined => (n.type === 'ERROR' ? n : n.children.map(find).find((c) => c !== undefined));
  const error = find(node);
  return error ? ` (near \`${oneLine(source.slice(error.start, Math.min(error.end, error.start + 40)))}\`)` : '';
}

const REDIRECTS = new Set(['file_redirect', 'heredoc_redirect', 'herestring_redirect']);
const DECLARATIONS = new Set(['declare', 'typeset', 'local', 'export', 'readonly']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ARITHMETIC_TESTS = new Set(['-eq', '-ne', '-lt', '-le', '-gt', '-ge']);
const NUMERIC_VALUES = new Set(['number', 'binary_expression', 'unary_expression', 'postfix_expression', 'parenthesized_expression', 'ternary_expression']);

class Walker {
  readonly variables = new VariableValues();
  /** Words of declarations that are `variable_assignment` nodes, which `assignment` handles. */
  private readonly assignments = new WeakSet<Word>();

  constructor(
    private readonly source: string,
    private readonly depth: number,
    private readonly out: ShellCommand[],
  ) {}

  private text(node: SyntaxNode): string {
    return this.source.slice(node.start, node.end);
  }

  private unknown(node: SyntaxNode, why: string): void {
    this.out.push({ text: oneLine(this.text(node)), unknown: why });
  }

  /** `stdin` and `redirects`: what a redirection around a command directly at this node says. */
  visit(node: SyntaxNode, stdin: Stdin, redirects: string[] = []): void {
    switch (node.type) {
      case 'command':
        this.command(node, stdin, redirects);
        break;
      case 'redirected_statement': {
        const redirected = this.stdinOf(node.children, stdin);
        const texts = node.children.filter((c) => REDIRECTS.has(c.type)).map((c) => this.redirectText(c, undefined));
        for (const child of node.children) this.visit(child, REDIRECTS.has(child.type) ? null : redirected, REDIRECTS.has(child.type) ? [] : texts);
        return;
      }
      case 'declaration_command':
      case 'unset_command':
        this.judge(this.declarationWords(node), null, node);
        break;
      case 'variable_assignment':
        this.assignment(node);
        break;
      case 'for_statement': {
        const variable = node.children.find((c) => c.type === 'variable_name');
        const values = node.children.filter((c) => c.named && c.type !== 'variable_name' && c.type !== 'do_group' && c.type !== 'comment');
        if (variable) this.variables.write(this.text(variable), node.start, values.length > 0 && values.every((v) => v.type === 'number'));
        break;
      }
      case 'arithmetic_expansion':
      case 'c_style_for_statement':
        for (const child of node.children) if (child.named && child.type !== 'do_group' && child.type !== 'compound_statement') this.variables.arithmetic(child, this.source);
        break;
      case 'compound_statement':
        if (node.children[0]?.type === '((') this.variables.arithmetic(node, this.source);
        break;
      case 'subscript':
        for (const index of node.children.slice(1)) if (index.named) this.variables.arithmetic(index, this.source);
        break;
      case 'expansion':
        this.expansion(node);
        break;
      case 'test_command':
        this.test(node);
        break;
    }
    for (const child of node.children) this.visit(child, null);
  }

  private command(node: SyntaxNode, outer: Stdin, outerRedirects: string[]): void {
    const words: Word[] = [];
    const children = node.children;
    let previous: SyntaxNode | undefined;
    const push = (word: SyntaxNode) => {
      const next = wordOf(word, this.source);
      const last = words.at(-1);
      // tree-sitter-bash takes `\`+newline inside a word (`r\⏎m`) for a space between words; bash joins them.
      if (last && previous && this.source.slice(previous.end, word.start) === '\\\n') {
        words[words.length - 1] = { value: last.value + next.value, raw: `${last.raw}\\\n${next.raw}`, literal: last.literal && next.literal, single: last.single && next.single };
      } else words.push(next);
      previous = word;
    };
    const redirects: string[] = [];
    for (const [i, child] of children.entries()) {
      if (REDIRECTS.has(child.type)) redirects.push(this.redirectText(child, children[i - 1]));
      if (child.type === 'command_name') push(child.children[0] ?? child);
      else if (child.type === 'variable_assignment') {
        // `x=1 cmd` sets x in cmd's environment only: the shell's own x stays whatever it was.
        const target = child.children[0];
        if (target) this.variables.write(this.text(target), child.start, false);
      } else if (child.named && !REDIRECTS.has(child.type) && child.type !== 'comment' && !isDescriptor(child, children[i + 1])) push(child);
    }
    this.judge(words, this.stdinOf(children, outer), node, [...redirects, ...outerRedirects]);
  }

  /** `2>&1`, `> out.log`, `<<EOF` (a here-document without its body), as written. */
  private redirectText(redirect: SyntaxNode, previous: SyntaxNode | undefined): string {
    const descriptor = previous && isDescriptor(previous, redirect) ? this.text(previous) : '';
    if (redirect.type !== 'heredoc_redirect') return descriptor + oneLine(this.text(redirect));
    const start = redirect.children.find((c) => c.type === 'heredoc_start');
    // `cat <<EOF > out`: the redirections after the delimiter are inside the here-document's node.
    const more = redirect.children.filter((c) => REDIRECTS.has(c.type)).map((c) => ` ${oneLine(this.text(c))}`);
    return descriptor + oneLine(this.source.slice(redirect.start, start?.end ?? redirect.end)) + more.join('');
  }

  /** `export X=$(date) "Y=$z" w`: the keyword, then each word; an assignment's name is known even when its value is not. */
  private declarationWords(node: SyntaxNode): Word[] {
    return node.children
      .filter((c, i) => i === 0 || (c.named && c.type !== 'comment'))
      .map((c) => {
        if (c.type === 'variable_assignment') {
          const word = wordOf(c, this.source);
          this.assignments.add(word);
          return word;
        }
        return c.type === 'variable_name' || !c.named ? literalWord(this.text(c)) : wordOf(c, this.source);
      });
  }

  /** The command the words make, and whatever it runs in turn. */
  private judge(words: Word[], stdin: Stdin, node: SyntaxNode, redirects: string[] = []): void {
    const [name, ...args] = words;
    if (!name) return;
    const program = name.literal ? (name.value.split('/').pop() ?? '') || name.value : name.value;
    const text = [program, ...args.map((a) => a.value), ...redirects].join(' ');
    if (!name.literal) {
      this.out.push({ text, words, unknown: `the command name \`${name.raw}\` is only known when the line runs` });
      return;
    }
    const builtin = this.builtin(program, args, node.start);
    const runs = WRAPPERS.get(program)?.(args, stdin, program) ?? [];
    const unknown = builtin ?? runs.find((r) => 'unknown' in r)?.unknown;
    this.out.push(unknown === undefined ? { text, words } : { text, words, unknown });
    for (const run of runs) {
      if ('command' in run) this.judge(run.command, stdin, node);
      else if ('script' in run) analyze(run.script, this.depth + 1, this.out);
    }
  }

  /** What builtins that take variable names do to them; a name only known at run time can run commands (`unset "a[$(rm x)]"`). */
  private builtin(program: string, args: Word[], at: number): string | undefined {
    const dynamicName = (w: Word | undefined) => (w && !w.literal ? `\`${program}\` takes a variable name that is only known when the line runs (\`${w.raw}\`)` : undefined);
    const notNumber = (w: Word | undefined) => {
      if (w?.literal && NAME.test(w.value)) this.variables.write(w.value, Infinity, false);
    };
    const afterOption = (option: string) => args.filter((_, i) => args[i - 1]?.literal && args[i - 1]?.value === option);
    switch (program) {
      case 'let':
        // Each argument is evaluated in turn.
        for (const [i, arg] of args.entries()) this.letExpression(arg, at + 2 * i);
        return undefined;
      case 'read':
      case 'mapfile':
      case 'readarray':
      case 'getopts': {
        const values = program === 'read' ? 'dinNptu' : program === 'getopts' ? '' : 'dnOsuCc';
        for (const [i, arg] of args.entries()) {
          const previous = args[i - 1];
          if (previous?.literal && /^-[A-Za-z]+$/.test(previous.value) && values.includes(previous.value.slice(-1))) continue;
          if (arg.literal && arg.value.startsWith('-')) continue;
          if (program === 'getopts' && i === 0) continue;
          const why = dynamicName(arg);
          if (why) return why;
          notNumber(arg);
        }
        return undefined;
      }
      case 'printf':
      case 'wait':
        for (const name of afterOption(program === 'printf' ? '-v' : '-p')) {
          const why = dynamicName(name);
          if (why) return why;
          notNumber(name);
        }
        return undefined;
      case 'test':
      case '[':
        return afterOption('-v').map(dynamicName).find((w) => w !== undefined);
      case 'unset':
        return args.map(dynamicName).find((w) => w !== undefined);
    }
    if (!DECLARATIONS.has(program)) return undefined;
    for (const arg of args) {
      if (arg.literal && /^[-+]/.test(arg.value)) {
        if (program !== 'export' && /[in]/.test(arg.value)) return `\`${program} ${arg.value}\` makes later assignments run as code`;
        continue;
      }
      if (this.assignments.has(arg)) continue;
      const assignment = /^["']?([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=/.exec(arg.raw);
      if (assignment) {
        const name = assignment[1] as string;
        if (runsCode(name)) return `\`${name}\` holds code the shell runs later`;
        this.variables.write(name, at, arg.literal && /^[^=]*=\d+$/.test(arg.value));
      } else {
        const why = dynamicName(arg);
        if (why) return why;
      }
    }
    return undefined;
  }

  /** `let 'i=i+1'`: identifiers assigned to, then the ones read. */
  private letExpression(arg: Word, at: number): void {
    if (!arg.literal) {
      this.variables.read('$(...)', at);
      return;
    }
    for (const m of arg.value.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(\s*(?:\+\+|--|[-+*/%&|^]|<<|>>)?=(?!=))?/g)) {
      const [, name, assigned] = m as unknown as [string, string, string | undefined];
      if (!assigned || assigned.trim() !== '=') this.variables.read(name, at);
      if (assigned) this.variables.write(name, at + 1, true);
    }
  }

  private assignment(node: SyntaxNode): void {
    const target = node.children[0] as SyntaxNode;
    const name = this.text(target.type === 'subscript' ? (target.children[0] ?? target) : target);
    if (runsCode(name)) {
      this.unknown(node, `\`${name}\` holds code the shell runs later`);
      return;
    }
    const value = node.children.find((c, i) => i > 0 && c.named);
    // An expression node is an assignment in arithmetic (`for ((i = n - 1; ...))`): its value is a number.
    const numeric = value !== undefined && (NUMERIC_VALUES.has(value.type) || (value.type === 'word' && /^\d+$/.test(this.text(value))));
    this.variables.write(name, node.start, numeric);
  }

  /** `${!x}` and `${x@P}` expand a value as a name or a prompt, either of which can run commands; `${s:i:n}` evaluates i and n. */
  private expansion(node: SyntaxNode): void {
    const [, first, second, third] = node.children;
    if (first?.type === '!') {
      const listsNames = (second?.type === 'variable_name' && (third?.type === '*' || third?.type === '@')) || (second?.type === 'subscript' && /\[[@*]\]$/.test(this.text(second)));
      if (!listsNames) this.unknown(node, `\`${this.text(node)}\` uses a variable's value as a name, which can run commands`);
      return;
    }
    for (const [i, child] of node.children.entries()) {
      if (child.type === 'P' && node.children[i - 1]?.type === '@') this.unknown(node, `\`${this.text(node)}\` expands a value as a prompt, which can run commands`);
      if (child.type === ':') for (const offset of node.children.slice(i + 1)) if (offset.named) this.variables.arithmetic(offset, this.source);
      if ((child.type === ':=' || child.type === '=') && first?.type === 'variable_name') {
        const value = node.children[i + 1];
        this.variables.write(this.text(first), node.start, value !== undefined && /^\d+$/.test(this.text(value)) && node.children[i + 2]?.type === '}');
      }
    }
  }

  /** `[[ a -eq b ]]` evaluates both sides; `-v NAME` takes a name. */
  private test(node: SyntaxNode): void {
    const double = node.children[0]?.type === '[[';
    const visit = (n: SyntaxNode) => {
      const operator = n.children.find((c) => c.type === 'test_operator');
      const operands = n.children.filter((c) => c.named && c.type !== 'test_operator');
      if (n.type === 'binary_expression' && double && operator && ARITHMETIC_TESTS.has(this.text(operator))) {
        for (const side of operands) this.variables.arithmetic(side, this.source);
      } else if (n.type === 'unary_expression' && operator && this.text(operator) === '-v' && operands[0] && !wordOf(operands[0], this.source).literal) {
        this.unknown(n, `\`-v\` takes a variable name that is only known when the line runs`);
      }
      for (const child of n.children) if (child.named && child.type !== 'command_substitution') visit(child);
    };
    visit(node);
  }

  /** What the command reads on its standard input after these redirections (here-documents and here-strings whose text is known). */
  private stdinOf(children: SyntaxNode[], outer: Stdin): Stdin {
    let stdin = outer;
    for (const [i, redirect] of children.entries()) {
      if (!REDIRECTS.has(redirect.type)) continue;
      const previous = children[i - 1];
      const descriptor = redirect.children.find((c) => c.type === 'file_descriptor') ?? (previous && isDescriptor(previous, redirect) ? previous : undefined);
      if (descriptor && this.text(descriptor) !== '0') continue;
      if (redirect.type === 'heredoc_redirect') stdin = this.hereDocument(redirect);
      else if (redirect.type === 'herestring_redirect') {
        const word = redirect.children.find((c) => c.named && c.type !== 'file_descriptor');
        const value = word ? wordOf(word, this.source) : undefined;
        stdin = value?.literal ? { text: `${value.value}\n` } : null;
      } else if (redirect.children.some((c) => c.type === '<' || c.type === '<>' || c.type === '<&')) stdin = null;
    }
    return stdin;
  }

  private hereDocument(redirect: SyntaxNode): Stdin {
    const start = redirect.children.find((c) => c.type === 'heredoc_start');
    const body = redirect.children.find((c) => c.type === 'heredoc_body');
    if (!body) return { text: '' };
    const text = this.text(body);
    if (start && /['"\\]/.test(this.text(start))) return { text };
    if (body.children.some((c) => c.named && c.type !== 'heredoc_content')) return null;
    return { text: text.replace(/\\([$`\\\n])/g, (_, c: string) => (c === '\n' ? '' : c)) };
  }
}

/** `2>x` parses as the word `2` before the redirection; it is the redirection's descriptor. */
const isDescriptor = (node: SyntaxNode, next: SyntaxNode | undefined): boolean => node.type === 'number' && next !== undefined && REDIRECTS.has(next.type) && next.start === node.end;
