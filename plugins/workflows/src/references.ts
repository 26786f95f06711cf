import type { YamlSource } from '@codepiper/sdk';
import { isMap, isSeq, type Node } from 'yaml';
import type { Step } from './ast.js';
import { ConditionError, conditionReferences, parseCondition, type Condition } from './condition.js';
import { parseTemplate, TemplateError } from './interpolate.js';
import { kindOf, NodeReader } from './yaml-nodes.js';

/*
 * Validation rules for references (`${x.field}`), decided here and documented
 * in the package README:
 * - A step can reference a step that has certainly run before it: earlier
 *   steps of its list and of every enclosing list. Steps inside `then`/`else`
 *   see the steps before the `if`; a foreach body sees the steps before the
 *   loop, earlier steps of the body and the loop variable.
 * - Branches of a `parallel` step never see each other.
 * - After an `if`, an id defined in both branches has certainly run; an id in
 *   one branch only "may have run", and referencing it is an error (set a var
 *   in both branches instead). The same holds for the branches of a
 *   `parallel` with `mode: first` (only one finishes) and for the body of a
 *   `foreach` over a value that may be an empty list.
 * - `${vars.x}` needs `x` declared under the top-level `vars` or set by a
 *   `set` step earlier in the file; `${env.NAME}` is always allowed.
 * - Ids are unique in the whole file, across branches too.
 */

export type IdKind = Step['type'];

const STEP_FIELDS: Record<IdKind, readonly string[]> = {
  session: ['result', 'output', 'exit_code', 'status', 'session_id'],
  'session-prompt': ['result', 'output', 'status', 'session_id'],
  shell: ['result', 'output', 'stdout', 'stderr', 'exit_code', 'status'],
  if: ['status', 'branch'],
  parallel: ['status', 'result', 'results'],
  foreach: ['status', 'results'],
  set: ['status'],
  log: ['status'],
};

export const VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What a step can reference: ids that have certainly run, ids that may have (and why not surely), loop variables. */
export interface Scope {
  definite: Map<string, IdKind>;
  maybe: Map<string, string>;
  locals: Set<string>;
}

export const cloneScope = (scope: Scope): Scope => ({ definite: new Map(scope.definite), maybe: new Map(scope.maybe), locals: new Set(scope.locals) });

/** Ids a scope gained since `before`. */
export const gained = (scope: Scope, before: Scope): Map<string, IdKind> => new Map([...scope.definite].filter(([id]) => !before.definite.has(id)));

/**
 * Reads the strings of a workflow that may hold `${...}` references and
 * conditions, checking each reference against the rules above.
 */
export class ReferenceReader extends NodeReader {
  protected readonly knownVars = new Set<string>();
  /** Names the file reads as `${env.NAME}`: what a client sends with a run. */
  readonly envNames = new Set<string>();

  constructor(
    yaml: YamlSource,
    /** Every id in the file, to tell "does not exist" from "has not run yet". */
    protected readonly allIds: ReadonlySet<string>,
  ) {
    super(yaml);
  }

  /** Checks the `${...}` references of a string node's value. */
  template(node: Node | null, text: string, path: string, scope: Scope): void {
    try {
      for (const part of parseTemplate(text)) {
        if (part.kind === 'ref') this.reference(part.ref.path, this.offsetIn(node, part.ref.start), path, scope);
      }
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      this.errorAt(this.offsetIn(node, error.offset), path, error.message);
    }
  }

  reference(ref: readonly string[], offset: number, path: string, scope: Scope): void {
    const [head, ...rest] = ref as [string, ...string[]];
    const whole = `\${${ref.join('.')}}`;
    if (scope.locals.has(head)) return;
    if (head === 'env') {
      if (rest.length !== 1 || !VAR.test(rest[0] as string)) this.errorAt(offset, path, `${whole}: write \${env.NAME}`);
      else this.envNames.add(rest[0] as string);
      return;
    }
    if (head === 'vars') {
      if (rest.length === 0) this.errorAt(offset, path, `${whole}: write \${vars.name}`);
      else if (!this.knownVars.has(rest[0] as string)) {
        this.errorAt(offset, path, `${whole}: no variable "${rest[0]}" (declare it under vars: or set it in an earlier set step)`);
      }
      return;
    }
    const kind = scope.definite.get(head);
    if (kind !== undefined) {
      const fields = STEP_FIELDS[kind];
      if (rest.length !== 1) this.errorAt(offset, path, `${whole}: name one field of step "${head}": ${fields.map((f) => `\${${head}.${f}}`).join(', ')}`);
      else if (!fields.includes(rest[0] as string)) this.errorAt(offset, path, `${whole}: a ${kind} step has no "${rest[0]}" (it has ${fields.join(', ')})`);
      return;
    }
    const maybe = scope.maybe.get(head);
    if (maybe !== undefined) this.errorAt(offset, path, `${whole}: step "${head}" may not have run at this point (${maybe})`);
    else if (this.allIds.has(head)) this.errorAt(offset, path, `${whole}: step "${head}" has not run at this point (it comes later, or in another branch of a parallel step)`);
    else this.errorAt(offset, path, `${whole}: no step has id "${head}"`);
  }

  stringMap(node: Node | null | undefined, path: string, scope: Scope): Record<string, string> {
    const out: Record<string, string> = {};
    if (node === undefined) return out;
    if (!isMap(node)) {
      this.error(node, path, `must be a map of names to strings, not ${kindOf(node)}`);
      return out;
    }
    for (const [key, { key: keyNode, value }] of this.entries(node, path, undefined, path.split('.').at(-1) ?? 'a map')) {
      if (!VAR.test(key)) this.error(keyNode, `${path}.${key}`, `bad environment variable name "${key}"`);
      const text = this.string(value, `${path}.${key}`, { coerce: true });
      if (text !== undefined) {
        this.template(value, text, `${path}.${key}`, scope);
        out[key] = text;
      }
    }
    return out;
  }

  stringList(node: Node | null | undefined, path: string, scope: Scope): string[] {
    if (node === undefined) return [];
    if (!isSeq(node)) {
      this.error(node, path, `must be a list of strings, not ${kindOf(node)}`);
      return [];
    }
    const out: string[] = [];
    node.items.forEach((item, i) => {
      const value = this.resolve(item);
      const text = this.string(value, `${path}[${i}]`, { coerce: true });
      if (text !== undefined) {
        this.template(value, text, `${path}[${i}]`, scope);
        out.push(text);
      }
    });
    return out;
  }

  condition(node: Node | null, text: string, path: string, scope: Scope): Condition | undefined {
    try {
      const parsed = parseCondition(text);
      for (const ref of conditionReferences(parsed)) this.reference(ref.path, this.offsetIn(node, ref.offset), path, scope);
      return parsed;
    } catch (error) {
      if (!(error instanceof ConditionError)) throw error;
      this.errorAt(this.offsetIn(node, error.offset), path, `bad condition: ${error.message}`);
      return undefined;
    }
  }
}
