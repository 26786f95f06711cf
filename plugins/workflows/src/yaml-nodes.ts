import type { YamlSource } from '@codepiper/sdk';
import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { WorkflowError } from './ast.js';
import { formatDuration, parseDuration } from './duration.js';

/** The longest duration a workflow names: a Node timer waits at most 2^31-1 ms (24.8 days), and one asked to wait longer fires at once. */
const MAX_DURATION_MS = 24 * 24 * 3_600_000;

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** What a node is, for messages: `a map`, `a list`, `the number 3`... */
export function kindOf(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    if (node.value === null) return 'nothing';
    if (typeof node.value === 'string') return 'a string';
    if (typeof node.value === 'number') return `the number ${node.value}`;
    if (typeof node.value === 'boolean') return `${node.value}`;
  }
  return 'something else';
}

/** Where an offset inside a scalar's value lies in the source. */
function scalarOffset(source: string, node: Scalar, index: number): number {
  const [start, end] = node.range ?? [0, 0];
  if (index <= 0 && node.type !== 'QUOTE_DOUBLE' && node.type !== 'QUOTE_SINGLE') return start;
  const raw = source.slice(start, end);
  const value = typeof node.value === 'string' ? node.value : String(node.value);
  let p = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED' ? raw.indexOf('\n') + 1 : 0;
  for (let k = 0; k < value.length; k++) {
    if (node.type === 'QUOTE_DOUBLE' && raw[p] === '\\') {
      if (k === index) return start + p;
      const kind = raw[p + 1];
      p += kind === 'x' ? 4 : kind === 'u' ? 6 : kind === 'U' ? 10 : 2;
      continue;
    }
    if (node.type === 'QUOTE_SINGLE' && raw[p] === "'" && raw[p + 1] === "'") {
      if (k === index) return start + p;
      p += 2;
      continue;
    }
    const found = raw.indexOf(value[k] as string, p);
    if (found < 0) return start;
    if (k === index) return start + found;
    p = found + 1;
  }
  return start + Math.min(p, raw.length);
}

/**
 * Reads a YAML document's nodes as typed values, collecting every error with
 * its line and column and the path of what was read (`steps[1].prompt`):
 * the part of the workflow validator that knows YAML, not workflows.
 */
export class NodeReader {
  readonly errors: (WorkflowError & { offset: number })[] = [];

  protected readonly doc: Document;

  constructor(protected readonly yaml: YamlSource) {
    this.doc = yaml.document;
  }

  errorAt(offset: number, path: string, message: string): void {
    this.errors.push({ path, ...this.yaml.position(offset), message, offset });
  }

  error(node: Node | null | undefined, path: string, message: string, fallback = 0): void {
    this.errorAt(node?.range?.[0] ?? fallback, path, message);
  }

  resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }

  /** The map's entries by key; reports non-string and unknown keys. */
  entries(map: YAMLMap, path: string, allowed: readonly string[] | undefined, what: string): Map<string, { key: Scalar; value: Node | null; pair: Pair }> {
    const out = new Map<string, { key: Scalar; value: Node | null; pair: Pair }>();
    for (const pair of map.items) {
      const key = pair.key as Node | null;
      if (!isScalar(key) || typeof key.value !== 'string') {
        this.error(key, path, `keys of ${what} must be names`, map.range?.[0]);
        continue;
      }
      if (allowed && !allowed.includes(key.value)) {
        this.error(key, join(path, key.value), `unknown field "${key.value}" for ${what} (expected one of: ${allowed.join(', ')})`);
        continue;
      }
      out.set(key.value, { key, value: this.resolve(pair.value), pair });
    }
    return out;
  }

  /** A string field; numbers and booleans count when `coerce`. */
  string(node: Node | null, path: string, options: { coerce?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    if (isScalar(node) && typeof node.value === 'string') {
      if (options.nonEmpty && node.value.trim() === '') {
        this.error(node, path, 'must not be empty');
        return undefined;
      }
      return node.value;
    }
    if (options.coerce && isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean')) return String(node.value);
    this.error(node, path, `must be a string, not ${kindOf(node)}`);
    return undefined;
  }

  /** A true/false field (YAML `true`/`false`; not a string or a reference). */
  boolean(node: Node | null, path: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.error(node, path, `must be true or false, not ${kindOf(node)}`);
    return undefined;
  }

  offsetIn(node: Node | null, index: number): number {
    if (isScalar(node)) return scalarOffset(this.yaml.text, node, index);
    return node?.range?.[0] ?? 0;
  }

  duration(node: Node | null, path: string): number | undefined {
    const text = isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : undefined;
    const ms = text === undefined ? undefined : parseDuration(text);
    if (ms === undefined) this.error(node, path, `bad duration ${text === undefined ? kindOf(node) : JSON.stringify(text)}: write a number with a unit, e.g. 500ms, 30s, 5m, 1h or 1m30s`);
    else if (ms > MAX_DURATION_MS) this.error(node, path, `duration ${JSON.stringify(text)} is too long: at most ${formatDuration(MAX_DURATION_MS)} (24 days)`);
    else return ms;
    return undefined;
  }

  count(node: Node | null, path: string): number | undefined {
    if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value) && node.value >= 0 && node.value <= 100) return node.value;
    this.error(node, path, `must be a whole number from 0 to 100, not ${isScalar(node) ? JSON.stringify(node.value) : kindOf(node)}`);
    return undefined;
  }
}
