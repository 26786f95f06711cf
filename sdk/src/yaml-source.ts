import type { Static, TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Scalar } from 'yaml';

/** Where in a text: 1-based line and column. */
export interface TextPosition {
  line: number;
  column: number;
}

/** A YAML text is wrong; the message says where (`NAME:LINE:COL`), the key and what was expected. */
export class YamlError extends Error {
  constructor(
    /** The file (or what the text is, `policy set`). */
    readonly source: string,
    /** Dotted path of the key at fault (`sessions.stop_timeout_ms`, `policies.1.action`); undefined when the text does not parse. */
    readonly key: string | undefined,
    /** Where it is, when known. */
    readonly position: TextPosition | undefined,
    /** What is wrong, without where (the message has both). */
    readonly reason: string,
  ) {
    super(`${source}${position ? `:${position.line}:${position.column}` : ''}: ${key ? `${key}: ` : ''}${reason}`);
    this.name = 'YamlError';
  }
}

/**
 * A parsed YAML text that can point at the line and column of any key, so
 * that each error says where it is: the one path config.yaml, policy sets and
 * workflows report through.
 */
export class YamlSource {
  private readonly lines = new LineCounter();
  /** The parsed document, for a reader that walks its nodes (and their ranges) itself. */
  readonly document: Document;
  /** Where the text does not parse, in order; only kept with `keepSyntaxErrors` (else the first is thrown). */
  readonly syntaxErrors: readonly YamlError[];

  /**
   * Fails (YamlError) on text that does not parse, unless `keepSyntaxErrors`
   * (then see `syntaxErrors`, for a reader that reports every error). `name`
   * starts every message: a file, or what the text is.
   */
  constructor(
    readonly text: string,
    readonly name: string,
    options: { keepSyntaxErrors?: boolean } = {},
  ) {
    this.document = parseDocument(text, { lineCounter: this.lines });
    this.syntaxErrors = this.document.errors.map((error) => {
      // yaml appends " at line L, column C:" and a code excerpt; the prefix says where already.
      const what = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return new YamlError(name, undefined, this.position(error.pos[0]), what);
    });
    if (this.syntaxErrors[0] && !options.keepSyntaxErrors) throw this.syntaxErrors[0];
  }

  /** The document as plain data; null when it is empty. */
  value(): unknown {
    return this.document.toJS() ?? null;
  }

  /** `value` (found at `at` in the document) with the schema's defaults applied, checked; fails at the first error, pointing at it. */
  validate<S extends TSchema>(schema: S, value: unknown, at: readonly (string | number)[] = []): Static<S> {
    const withDefaults: unknown = Value.Default(schema, structuredClone(value));
    const error = Value.Errors(schema, withDefaults).First();
    if (error) this.fail([...at, ...pointerKeys(error.path)], describeValueError(error));
    return withDefaults as Static<S>;
  }

  /** Fails with `message` about the key at `keys`, placed at the deepest of them the document has. */
  fail(keys: readonly (string | number)[], message: string): never {
    throw new YamlError(this.name, keys.join('.'), this.position(this.offsetOf(keys.map(String))), message);
  }

  /** `NAME:LINE:COL` of the key at `keys` (the deepest of them the document has). */
  where(keys: readonly (string | number)[]): string {
    const position = this.position(this.offsetOf(keys.map(String)));
    return position ? `${this.name}:${position.line}:${position.column}` : this.name;
  }

  /** The line and column of a character of the text. */
  position(offset: number): TextPosition;
  position(offset: number | undefined): TextPosition | undefined;
  position(offset: number | undefined): TextPosition | undefined {
    if (offset === undefined) return undefined;
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** Where the deepest existing node along `keys` starts: the key itself for a mapping entry. */
  private offsetOf(keys: readonly string[]): number | undefined {
    let node: unknown = this.document.contents;
    let offset: number | undefined = (node as Node | null)?.range?.[0];
    for (const key of keys) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
        if (!pair) break;
        offset = (pair.key as Scalar).range?.[0];
        node = pair.value;
      } else if (isSeq(node) && isNode(node.items[Number(key)])) {
        node = node.items[Number(key)];
        offset = (node as Node).range?.[0];
      } else {
        break;
      }
    }
    return offset;
  }
}

/** `/a/0/b~1c` → `['a', '0', 'b/c']` */
function pointerKeys(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A schema error in words: what was expected (the choices of a union of literals), and what was found. */
function describeValueError(error: ValueError): string {
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'missing; this setting is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'unknown setting';
  }
  const choices = (error.schema.anyOf as TSchema[] | undefined)?.map((option) => option.const as unknown);
  const expected =
    error.type === ValueErrorType.Union && choices?.every((choice) => choice !== undefined)
      ? `expected one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`
      : error.message.charAt(0).toLowerCase() + error.message.slice(1);
  return `${expected}, got ${JSON.stringify(error.value)}`;
}
