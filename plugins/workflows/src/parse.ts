import path from 'node:path';
import { YamlSource } from '@codepiper/sdk';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { ForeachStep, IfStep, LogStep, ParallelStep, SessionPromptStep, SessionStep, SetStep, ShellStep, Step, StepBase, WaitFor, Workflow, WorkflowError } from './ast.js';
import type { Condition } from './condition.js';
import { cloneScope, gained, ReferenceReader, VAR, type IdKind, type Scope } from './references.js';
import { shellScript } from './shell.js';
import { kindOf } from './yaml-nodes.js';

const COMMON_FIELDS = ['type', 'id', 'timeout', 'retry', 'on_error'];
const TYPE_FIELDS: Record<string, readonly string[]> = {
  session: ['provider', 'cwd', 'model', 'trust', 'worktree', 'prompt', 'env', 'args', 'wait'],
  'session-prompt': ['session', 'prompt', 'wait'],
  if: ['condition', 'then', 'else'],
  parallel: ['steps', 'mode'],
  foreach: ['items', 'as', 'steps'],
  shell: ['command', 'cwd', 'env'],
  set: ['vars'],
  log: ['message'],
};
const STEP_TYPES = ['session', 'if', 'parallel', 'foreach', 'shell', 'set', 'log'];
const TOP_FIELDS = ['name', 'description', 'vars', 'steps'];
const ID = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const RESERVED = new Set(['vars', 'env']);
/** How deep steps may nest (if, parallel, foreach inside each other). */
const MAX_DEPTH = 32;

class Validator extends ReferenceReader {
  private readonly seenIds = new Map<string, string>();
  private stepCounter = 0;
  private depth = 0;

  workflow(file: string | undefined): Workflow | undefined {
    const root = this.resolve(this.doc.contents);
    if (!isMap(root)) {
      this.error(root, '', root ? 'a workflow must be a map with name and steps' : 'the file is empty: a workflow needs name and steps');
      return undefined;
    }
    const fields = this.entries(root, '', TOP_FIELDS, 'a workflow');
    const nameEntry = fields.get('name');
    const name = nameEntry ? this.string(nameEntry.value, 'name', { nonEmpty: true }) : undefined;
    if (!nameEntry) this.error(root, 'name', 'missing required field "name"');
    const descriptionEntry = fields.get('description');
    const description = descriptionEntry ? this.string(descriptionEntry.value, 'description') : undefined;

    const vars: Record<string, unknown> = {};
    const varsEntry = fields.get('vars');
    if (varsEntry) {
      if (!isMap(varsEntry.value)) this.error(varsEntry.value, 'vars', `vars must be a map of names to values, not ${kindOf(varsEntry.value)}`);
      else {
        for (const [key, { key: keyNode, value }] of this.entries(varsEntry.value, 'vars', undefined, 'vars')) {
          if (!VAR.test(key)) this.error(keyNode, `vars.${key}`, `bad variable name "${key}" (letters, digits and _)`);
          this.knownVars.add(key);
          vars[key] = value ? value.toJSON() : null;
          if (isScalar(value) && typeof value.value === 'string') this.template(value, value.value, `vars.${key}`, { definite: new Map(), maybe: new Map(), locals: new Set() });
        }
      }
    }

    const stepsEntry = fields.get('steps');
    let steps: Step[] = [];
    if (!stepsEntry) this.error(root, 'steps', 'missing required field "steps"');
    else steps = this.steps(stepsEntry.value, 'steps', { definite: new Map(), maybe: new Map(), locals: new Set() });

    if (this.errors.length > 0 || name === undefined) return undefined;
    return {
      name,
      ...(description !== undefined ? { description } : {}),
      ...(file !== undefined ? { file, baseDir: path.dirname(path.resolve(file)) } : {}),
      vars,
      envNames: [...this.envNames].sort(),
      steps,
    };
  }

  steps(node: Node | null, at: string, scope: Scope): Step[] {
    if (!isSeq(node)) {
      this.error(node, at, `must be a list of steps, not ${kindOf(node)}`);
      return [];
    }
    if (node.items.length === 0) this.error(node, at, 'needs at least one step');
    const out: Step[] = [];
    node.items.forEach((item, i) => {
      const step = this.step(this.resolve(item), `${at}[${i}]`, scope);
      if (step) out.push(step);
    });
    return out;
  }

  /** Validates one step and adds its id to `scope` (for the steps after it). */
  step(node: Node | null, at: string, scope: Scope): Step | undefined {
    if (this.depth >= MAX_DEPTH) {
      this.error(node, at, `steps nest more than ${MAX_DEPTH} deep`);
      return undefined;
    }
    this.depth++;
    try {
      return this.stepAt(node, at, scope);
    } finally {
      this.depth--;
    }
  }

  private stepAt(node: Node | null, at: string, scope: Scope): Step | undefined {
    if (!isMap(node)) {
      this.error(node, at, `a step must be a map with a type, not ${kindOf(node)}`);
      return undefined;
    }
    const start = node.range?.[0] ?? 0;
    const raw = this.entries(node, at, undefined, 'a step');
    const typeEntry = raw.get('type');
    let type: string | undefined;
    if (typeEntry) {
      type = this.string(typeEntry.value, `${at}.type`);
      if (type !== undefined && !STEP_TYPES.includes(type)) {
        this.error(typeEntry.value, `${at}.type`, `unknown step type "${type}" (expected one of: ${STEP_TYPES.join(', ')})`);
        return undefined;
      }
      if (type === undefined) return undefined;
    } else if (raw.has('session')) type = 'session';
    else {
      this.errorAt(start, `${at}.type`, `missing required field "type" (one of: ${STEP_TYPES.join(', ')})`);
      return undefined;
    }
    if (type === 'session' && raw.has('session')) type = 'session-prompt';
    const what = type === 'session-prompt' ? 'a follow-up (session: <id>) step' : `a ${type} step`;
    const fields = this.entries(node, at, [...COMMON_FIELDS, ...(TYPE_FIELDS[type] ?? [])], what);
    const base = this.base(fields, at, scope, { path: at, ...this.yaml.position(start) });
    const required = (name: string): Node | null | undefined => {
      const entry = fields.get(name);
      if (!entry) {
        this.errorAt(start, `${at}.${name}`, `missing required field "${name}" for ${what}`);
        return undefined;
      }
      return entry.value;
    };
    const optional = (name: string): Node | null | undefined => fields.get(name)?.value;
    /** A string field whose references are checked against `scope`. */
    const text = (node: Node | null | undefined, name: string, options: { coerce?: boolean; nonEmpty?: boolean } = {}): string | undefined => {
      if (node === undefined) return undefined;
      const value = this.string(node, `${at}.${name}`, options);
      if (value !== undefined) this.template(node, value, `${at}.${name}`, scope);
      return value;
    };

    let step: Step | undefined;
    switch (type) {
      case 'session': {
        const provider = text(required('provider'), 'provider', { nonEmpty: true });
        const cwd = text(optional('cwd'), 'cwd', { nonEmpty: true });
        const model = text(optional('model'), 'model', { nonEmpty: true });
        const trustNode = optional('trust');
        const trust = trustNode === undefined ? undefined : this.boolean(trustNode, `${at}.trust`);
        const worktreeNode = optional('worktree');
        const worktree = worktreeNode === undefined ? undefined : this.boolean(worktreeNode, `${at}.worktree`);
        const prompt = text(optional('prompt'), 'prompt');
        const env = this.stringMap(optional('env'), `${at}.env`, scope);
        const args = this.stringList(optional('args'), `${at}.args`, scope);
        const wait = this.wait(optional('wait'), `${at}.wait`);
        if (provider !== undefined) {
          step = { ...base, type: 'session', provider, env, args, ...(cwd !== undefined && { cwd }), ...(model !== undefined && { model }), ...(trust !== undefined && { trust }), ...(worktree && { worktree }), ...(prompt !== undefined && { prompt }), ...(wait && { wait }) } satisfies SessionStep;
        }
        break;
      }
      case 'session-prompt': {
        const sessionNode = required('session');
        const session = sessionNode === undefined ? undefined : this.string(sessionNode, `${at}.session`, { nonEmpty: true });
        if (session !== undefined) {
          const kind = scope.definite.get(session);
          if (kind === 'session') {
            // A follow-up to a session started earlier.
          } else if (kind !== undefined) this.error(sessionNode, `${at}.session`, `step "${session}" is a ${kind} step, not a session step that starts a session`);
          else if (scope.maybe.has(session)) this.error(sessionNode, `${at}.session`, `session "${session}" may not have started at this point (${scope.maybe.get(session)})`);
          else if (this.allIds.has(session)) this.error(sessionNode, `${at}.session`, `session "${session}" has not started at this point (its step comes later, or in another branch of a parallel step)`);
          else this.error(sessionNode, `${at}.session`, `no session step has id "${session}"`);
        }
        const prompt = text(required('prompt'), 'prompt', { nonEmpty: true });
        const wait = this.wait(optional('wait'), `${at}.wait`);
        if (session !== undefined && prompt !== undefined) step = { ...base, type: 'session-prompt', session, prompt, ...(wait && { wait }) } satisfies SessionPromptStep;
        break;
      }
      case 'if': {
        const conditionNode = required('condition');
        let condition: string | undefined;
        let parsed: Condition | undefined;
        if (conditionNode !== undefined) {
          condition = this.string(conditionNode, `${at}.condition`, { coerce: true });
          if (condition !== undefined) parsed = this.condition(conditionNode, condition, `${at}.condition`, scope);
        }
        const thenNode = required('then');
        const thenScope = cloneScope(scope);
        const thenSteps = thenNode === undefined ? [] : this.steps(thenNode, `${at}.then`, thenScope);
        const elseNode = optional('else');
        const elseScope = cloneScope(scope);
        const elseSteps = elseNode === undefined ? [] : this.steps(elseNode, `${at}.else`, elseScope);
        const inThen = gained(thenScope, scope);
        const inElse = gained(elseScope, scope);
        for (const [id, kind] of inThen) {
          if (inElse.has(id)) scope.definite.set(id, kind);
          else scope.maybe.set(id, `it runs only in the then branch of ${at}`);
        }
        for (const id of inElse.keys()) if (!inThen.has(id)) scope.maybe.set(id, `it runs only in the else branch of ${at}`);
        for (const [id, why] of [...thenScope.maybe, ...elseScope.maybe]) if (!scope.definite.has(id)) scope.maybe.set(id, why);
        if (condition !== undefined && parsed !== undefined) step = { ...base, type: 'if', condition, parsedCondition: parsed, then: thenSteps, else: elseSteps } satisfies IfStep;
        break;
      }
      case 'parallel': {
        const modeNode = optional('mode');
        let mode: 'all' | 'first' = 'all';
        if (modeNode !== undefined) {
          const value = this.string(modeNode, `${at}.mode`);
          if (value === 'all' || value === 'first') mode = value;
          else if (value !== undefined) this.error(modeNode, `${at}.mode`, `mode must be all or first, not "${value}"`);
        }
        const stepsNode = required('steps');
        const branches: Step[] = [];
        if (stepsNode !== undefined) {
          if (!isSeq(stepsNode)) this.error(stepsNode, `${at}.steps`, `must be a list of steps, not ${kindOf(stepsNode)}`);
          else {
            if (stepsNode.items.length === 0) this.error(stepsNode, `${at}.steps`, 'needs at least one step');
            const results: Scope[] = [];
            stepsNode.items.forEach((item, i) => {
              const branchScope = cloneScope(scope);
              const branch = this.step(this.resolve(item), `${at}.steps[${i}]`, branchScope);
              if (branch) branches.push(branch);
              results.push(branchScope);
            });
            for (const branchScope of results) {
              for (const [id, kind] of gained(branchScope, scope)) {
                if (mode === 'all') scope.definite.set(id, kind);
                else scope.maybe.set(id, `${at} has mode: first, so only one of its branches finishes`);
              }
              for (const [id, why] of branchScope.maybe) if (!scope.definite.has(id)) scope.maybe.set(id, why);
            }
          }
        }
        step = { ...base, type: 'parallel', mode, steps: branches } satisfies ParallelStep;
        break;
      }
      case 'foreach': {
        const itemsNode = required('items');
        let items: unknown[] | string | undefined;
        let certain = false;
        if (itemsNode !== undefined) {
          if (isSeq(itemsNode)) {
            items = itemsNode.toJSON() as unknown[];
            certain = items.length > 0;
            if (items.length === 0) this.error(itemsNode, `${at}.items`, 'the list is empty');
          } else if (isScalar(itemsNode) && typeof itemsNode.value === 'string') {
            items = itemsNode.value;
            this.template(itemsNode, items, `${at}.items`, scope);
            if (!items.includes('${')) {
              this.error(itemsNode, `${at}.items`, 'items must be a list or a ${...} reference to one');
              items = undefined;
            }
          } else this.error(itemsNode, `${at}.items`, `items must be a list or a \${...} reference to one, not ${kindOf(itemsNode)}`);
        }
        const asNode = optional('as');
        let as = 'item';
        if (asNode !== undefined) {
          const value = this.string(asNode, `${at}.as`);
          if (value !== undefined && (!VAR.test(value) || RESERVED.has(value))) this.error(asNode, `${at}.as`, `bad loop variable name "${value}" (letters, digits and _; not vars or env)`);
          else if (value !== undefined && this.allIds.has(value)) this.error(asNode, `${at}.as`, `loop variable "${value}" has the name of a step id`);
          else if (value !== undefined) as = value;
        }
        const body = cloneScope(scope);
        body.locals.add(as);
        const stepsNode = required('steps');
        const steps = stepsNode === undefined ? [] : this.steps(stepsNode, `${at}.steps`, body);
        for (const [id, kind] of gained(body, scope)) {
          if (certain) scope.definite.set(id, kind);
          else scope.maybe.set(id, `it is inside ${at}, whose list may be empty`);
        }
        for (const [id, why] of body.maybe) if (!scope.definite.has(id)) scope.maybe.set(id, why);
        if (items !== undefined) step = { ...base, type: 'foreach', items, as, steps } satisfies ForeachStep;
        break;
      }
      case 'shell': {
        const commandNode = required('command');
        let command: string | string[] | undefined;
        if (commandNode !== undefined) {
          if (isSeq(commandNode)) {
            command = this.stringList(commandNode, `${at}.command`, scope);
            if (commandNode.items.length === 0) this.error(commandNode, `${at}.command`, 'the command is empty');
          } else {
            command = text(commandNode, 'command', { nonEmpty: true });
            if (command !== undefined) {
              try {
                shellScript(command);
              } catch {
                // Reported by text() already.
              }
            }
          }
        }
        const cwd = text(optional('cwd'), 'cwd', { nonEmpty: true });
        const env = this.stringMap(optional('env'), `${at}.env`, scope);
        if (command !== undefined) step = { ...base, type: 'shell', command, env, ...(cwd !== undefined && { cwd }) } satisfies ShellStep;
        break;
      }
      case 'set': {
        const varsNode = required('vars');
        const vars: Record<string, unknown> = {};
        if (varsNode !== undefined) {
          if (!isMap(varsNode)) this.error(varsNode, `${at}.vars`, `must be a map of names to values, not ${kindOf(varsNode)}`);
          else {
            const entries = this.entries(varsNode, `${at}.vars`, undefined, 'vars');
            if (entries.size === 0) this.error(varsNode, `${at}.vars`, 'sets no variable');
            for (const [key, { key: keyNode, value }] of entries) {
              if (!VAR.test(key)) this.error(keyNode, `${at}.vars.${key}`, `bad variable name "${key}" (letters, digits and _)`);
              if (isScalar(value) && typeof value.value === 'string') this.template(value, value.value, `${at}.vars.${key}`, scope);
              vars[key] = value ? value.toJSON() : null;
            }
            for (const key of entries.keys()) this.knownVars.add(key);
          }
        }
        step = { ...base, type: 'set', vars } satisfies SetStep;
        break;
      }
      case 'log': {
        const message = text(required('message'), 'message', { coerce: true });
        if (message !== undefined) step = { ...base, type: 'log', message } satisfies LogStep;
        break;
      }
    }
    this.stepCounter++;
    if (base.id !== undefined) scope.definite.set(base.id, type as IdKind);
    return step;
  }

  get stepCount(): number {
    return this.stepCounter;
  }

  base(fields: Map<string, { value: Node | null }>, at: string, scope: Scope, where: { path: string; line: number; column: number }): StepBase {
    const base: StepBase = { ...where, onError: 'fail' };
    const idNode = fields.get('id')?.value;
    if (idNode !== undefined) {
      const id = this.string(idNode, `${at}.id`);
      if (id !== undefined) {
        if (!ID.test(id)) this.error(idNode, `${at}.id`, `bad id "${id}" (a letter or _, then letters, digits, _ and -)`);
        else if (RESERVED.has(id)) this.error(idNode, `${at}.id`, `"${id}" is reserved for \${${id}.NAME}`);
        else if (this.seenIds.has(id)) this.error(idNode, `${at}.id`, `duplicate id "${id}" (already used by ${this.seenIds.get(id)})`);
        else if (scope.locals.has(id)) this.error(idNode, `${at}.id`, `id "${id}" is the name of a loop variable`);
        else {
          this.seenIds.set(id, at);
          base.id = id;
        }
      }
    }
    const timeoutNode = fields.get('timeout')?.value;
    if (timeoutNode !== undefined) {
      const ms = this.duration(timeoutNode, `${at}.timeout`);
      if (ms !== undefined) base.timeoutMs = ms;
    }
    const retryNode = fields.get('retry')?.value;
    if (retryNode !== undefined) {
      const retry = this.retry(retryNode, `${at}.retry`);
      if (retry) base.retry = retry;
    }
    const onErrorNode = fields.get('on_error')?.value;
    if (onErrorNode !== undefined) {
      const value = this.string(onErrorNode, `${at}.on_error`);
      if (value === 'fail' || value === 'continue') base.onError = value;
      else if (value !== undefined) this.error(onErrorNode, `${at}.on_error`, `on_error must be fail or continue, not "${value}"`);
    }
    return base;
  }

  retry(node: Node | null, path: string): { count: number; delayMs: number } | undefined {
    if (isMap(node)) {
      const fields = this.entries(node, path, ['count', 'delay'], 'retry');
      const countEntry = fields.get('count');
      if (!countEntry) {
        this.error(node, `${path}.count`, 'missing required field "count"');
        return undefined;
      }
      const count = this.count(countEntry.value, `${path}.count`);
      const delayEntry = fields.get('delay');
      const delayMs = delayEntry ? this.duration(delayEntry.value, `${path}.delay`) : 0;
      return count !== undefined && delayMs !== undefined ? { count, delayMs } : undefined;
    }
    const count = this.count(node, path);
    return count === undefined ? undefined : { count, delayMs: 0 };
  }

  wait(node: Node | null | undefined, path: string): WaitFor | undefined {
    if (node === undefined) return undefined;
    const UNTIL = ['idle_prompt', 'permission', 'exit'];
    if (isScalar(node) && typeof node.value === 'string') {
      if (UNTIL.includes(node.value)) return { until: node.value as 'idle_prompt' };
      this.error(node, path, `unknown wait "${node.value}" (expected idle_prompt, permission, exit, or { event: <type>, timeout: <duration> })`);
      return undefined;
    }
    if (!isMap(node)) {
      this.error(node, path, `wait must be idle_prompt, permission, exit or a map, not ${kindOf(node)}`);
      return undefined;
    }
    const fields = this.entries(node, path, ['until', 'event', 'timeout'], 'wait');
    const timeoutEntry = fields.get('timeout');
    const timeoutMs = timeoutEntry ? this.duration(timeoutEntry.value, `${path}.timeout`) : undefined;
    const untilEntry = fields.get('until');
    const eventEntry = fields.get('event');
    if ((untilEntry === undefined) === (eventEntry === undefined)) {
      this.error(node, path, 'wait needs exactly one of until (idle_prompt, permission, exit) or event (an event type)');
      return undefined;
    }
    const timeout = timeoutMs === undefined ? {} : { timeoutMs };
    if (untilEntry) {
      const until = this.string(untilEntry.value, `${path}.until`);
      if (until !== undefined && UNTIL.includes(until)) return { until: until as 'idle_prompt', ...timeout };
      if (until !== undefined) this.error(untilEntry.value, `${path}.until`, `until must be idle_prompt, permission or exit, not "${until}"`);
      return undefined;
    }
    const event = this.string((eventEntry as { value: Node | null }).value, `${path}.event`, { nonEmpty: true });
    if (event !== undefined && !/^[a-z0-9_.*-]+$/i.test(event)) this.error((eventEntry as { value: Node | null }).value, `${path}.event`, `bad event type "${event}"`);
    return event === undefined ? undefined : { event, ...timeout };
  }

}

/** Every `id` of a step-like map in the document, for messages. */
function collectIds(node: unknown, out: Set<string>, depth: number): void {
  if (depth > MAX_DEPTH * 4) return;
  if (isMap(node)) {
    const id = node.get('id');
    if (typeof id === 'string') out.add(id);
    for (const pair of node.items) collectIds(pair.value, out, depth + 1);
  } else if (isSeq(node)) {
    for (const item of node.items) collectIds(item, out, depth + 1);
  }
}

export interface ParseResult {
  /** Present only when there are no errors. */
  workflow?: Workflow;
  /** Every error, in the order of the file. */
  errors: WorkflowError[];
  /** How many steps the file has, nested ones included. */
  stepCount: number;
}

/**
 * Parses and validates a workflow. Reports every error it finds, each with a
 * 1-based line and column and the step path (`steps[1].then[0].prompt`).
 * `file` names the file for `baseDir` (relative `cwd`s) and is not read.
 */
export function parseWorkflow(source: string, file?: string): ParseResult {
  const yaml = new YamlSource(source, file ?? 'workflow', { keepSyntaxErrors: true });
  if (yaml.syntaxErrors.length > 0) return { errors: yaml.syntaxErrors.map((error) => ({ path: '', line: error.position?.line ?? 1, column: error.position?.column ?? 1, message: error.reason })), stepCount: 0 };
  const ids = new Set<string>();
  collectIds(yaml.document.contents, ids, 0);
  const validator = new Validator(yaml, ids);
  let workflow: Workflow | undefined;
  try {
    workflow = validator.workflow(file);
  } catch (error) {
    // Steps nested deeper than MAX_DEPTH are refused before this; a stack overflow elsewhere is still an answer, not a crash.
    if (!(error instanceof RangeError)) throw error;
    return { errors: [{ path: '', line: 1, column: 1, message: 'the file is nested too deeply' }], stepCount: 0 };
  }
  const all = validator.errors.sort((a, b) => a.offset - b.offset).map(({ offset: _, ...e }) => e);
  return all.length === 0 && workflow ? { workflow, errors: [], stepCount: validator.stepCount } : { errors: all, stepCount: validator.stepCount };
}
