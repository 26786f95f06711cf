/**
 * Bash evaluates a variable's value as arithmetic in `$((x))`, `((x))`,
 * `[[ x -eq 1 ]]`, `let`, array subscripts and `${s:x}`, and an array
 * subscript inside that value runs command substitutions:
 * `x='a[$(rm -rf ~)]'; echo $((x))` runs rm. So a variable read there is
 * safe only when the line itself gave it a number before, and never
 * anything else; any other value is only known when the line runs.
 */
import type { SyntaxNode } from './bash-grammar.js';

/** Variables whose value the shell runs as code: prompts, startup files, exported functions. */
export const runsCode = (name: string): boolean => /^(PS[0124]|PROMPT_COMMAND|BASH_ENV|ENV)$|^BASH_FUNC_/.test(name);

/** Always numbers, whatever the environment says. */
const NUMERIC_BUILTINS = new Set(['#', '?', '$', '!', 'RANDOM', 'SRANDOM', 'SECONDS', 'LINENO', 'BASHPID', 'PPID', 'UID', 'EUID', 'EPOCHSECONDS', 'OPTIND']);

const ASSIGNMENT_OPERATORS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '<<=', '>>=', '&=', '^=', '|=']);
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;
const NUMBER_LITERAL = /^(0[xX][0-9a-fA-F]+|\d+#[0-9A-Za-z@_]+|\d+)$/;

export class VariableValues {
  private readonly firstNumber = new Map<string, number>();
  private readonly notNumbers = new Set<string>();
  private readonly reads: { name: string; at: number }[] = [];

  /** The line sets `name` at offset `at`, to a number or to something else. */
  write(name: string, at: number, numeric: boolean): void {
    if (!numeric) this.notNumbers.add(name);
    else this.firstNumber.set(name, Math.min(at, this.firstNumber.get(name) ?? at));
  }

  /** Arithmetic at offset `at` evaluates `name`'s value (a command substitution's output is `$(...)`). */
  read(name: string, at: number): void {
    this.reads.push({ name, at });
  }

  /** The first arithmetic read of a value the line did not make a number, as written. */
  firstUnknownRead(): string | undefined {
    const bad = this.reads.find(({ name, at }) => {
      if (this.notNumbers.has(name)) return true;
      if (NUMERIC_BUILTINS.has(name)) return false;
      const set = this.firstNumber.get(name);
      return set === undefined || set >= at;
    });
    return bad?.name;
  }

  /** Reads and writes in an arithmetic expression of the tree. */
  arithmetic(node: SyntaxNode, source: string): void {
    const text = (n: SyntaxNode) => source.slice(n.start, n.end);
    const named = node.children.filter((c) => c.named);
    switch (node.type) {
      case 'number':
        return;
      case 'command_substitution':
        // Its output is evaluated as arithmetic too.
        return this.read('$(...)', node.start);
      case 'variable_name':
      case 'special_variable_name':
        return this.read(text(node), node.start);
      case 'word':
      case 'string_content':
      case 'raw_string':
        if (!NUMBER_LITERAL.test(text(node))) for (const m of text(node).matchAll(IDENTIFIER)) this.read(m[0], node.start);
        return;
      case 'variable_assignment': {
        const [target, value] = named;
        if (target) this.write(target.type === 'subscript' ? text(target.children[0] ?? target) : text(target), node.start, true);
        if (target?.type === 'subscript') this.arithmetic(target, source);
        if (value) this.arithmetic(value, source);
        return;
      }
      case 'binary_expression': {
        const operator = node.children.find((c) => !c.named)?.type ?? '';
        const [left, right] = named;
        if (ASSIGNMENT_OPERATORS.has(operator) && left && (left.type === 'variable_name' || left.type === 'word')) {
          if (operator !== '=') this.read(text(left), node.start);
          this.write(text(left), node.start, true);
          if (right) this.arithmetic(right, source);
          return;
        }
        break;
      }
      case 'postfix_expression':
      case 'unary_expression': {
        const operand = named[0];
        if (node.children.some((c) => c.type === '++' || c.type === '--') && operand && (operand.type === 'variable_name' || operand.type === 'word')) {
          this.read(text(operand), node.start);
          this.write(text(operand), node.start, true);
          return;
        }
        break;
      }
    }
    for (const child of named) this.arithmetic(child, source);
  }
}
