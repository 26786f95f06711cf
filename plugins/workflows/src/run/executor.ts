import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { badRequest, type Logger } from '@codepiper/sdk';
import type { EventLog } from '@codepiper/events-contract';
import type { SessionControl, SessionDirectory } from '@codepiper/sessions-contract';
import type { StepStatus } from '@codepiper/workflows-contract';
import type { ForeachStep, IfStep, ParallelStep, SessionPromptStep, SessionStep, SetStep, ShellStep, Step, WaitFor, Workflow } from '../ast.js';
import { evaluateCondition } from '../condition.js';
import { formatDuration } from '../duration.js';
import { interpolate, interpolateValue, type InterpolationContext } from '../interpolate.js';
import { foreachItems } from '../items.js';
import { prepareShellCommand } from '../shell.js';
import { Interruption, sleep, StepFailure } from './interruption.js';
import type { RunJournal } from './journal.js';
import { waitForSession } from './session-wait.js';
import { endLeftoverGroup, type ProcessGroup } from './process-group.js';
import { runShell } from './shell-process.js';
import type { StepState, StoredRun } from './store.js';

export interface ExecutorDeps {
  sessions: SessionControl;
  directory: SessionDirectory;
  events: EventLog;
  /** The daemon's environment: shell steps inherit it, `${env.NAME}` falls back to it. */
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
}

type Outputs = Record<string, unknown>;

/** Where a step stands: the loop variables around it and which iteration of each enclosing foreach. */
interface Scope {
  locals: Record<string, unknown>;
  iteration: number[];
}

const VIA = 'workflow';

/** What `${env.NAME}` reads: the values a client sent with the run, else the daemon's own. */
export function workflowEnv(workflow: Workflow, given: Readonly<Record<string, string>>, daemonEnv: ExecutorDeps['env']): Record<string, string | undefined> {
  return Object.fromEntries(workflow.envNames.map((name) => [name, given[name] ?? daemonEnv[name]]));
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const label = (step: Step): string => `${step.path}${step.id ? ` (${step.id})` : ''}`;

/**
 * Interprets one run of a workflow. Every step's state is written as it
 * changes (through the journal), and a run started again after a daemon
 * restart walks the same steps: what has settled is taken from the records,
 * a step that was running continues where its state says (a session step
 * keeps its session and waits on), and only what never started runs afresh.
 */
export class RunExecutor {
  /** Outputs of the steps that have run, by step id: what `${id.field}` reads. */
  private readonly outputs: Record<string, Outputs> = {};
  private readonly vars: Record<string, unknown>;
  private readonly env: Record<string, string | undefined>;

  constructor(
    private readonly run: StoredRun,
    private readonly workflow: Workflow,
    private readonly journal: RunJournal,
    private readonly deps: ExecutorDeps,
  ) {
    this.env = workflowEnv(workflow, run.env, deps.env);
    // Resolved at each (re)start from what is stored: the --var values, never the values of ${env...} defaults.
    this.vars = startVars(workflow, run.vars as Record<string, string>, this.env);
  }

  /** Runs the steps; resolves when they are done, rejects with the step failure or interruption that ended them. */
  async execute(signal: AbortSignal): Promise<void> {
    await this.steps(this.workflow.steps, { locals: {}, iteration: [] }, signal);
  }

  private context(scope: Scope): InterpolationContext {
    return { steps: this.outputs, vars: this.vars, env: this.env, locals: scope.locals };
  }

  private async steps(steps: readonly Step[], scope: Scope, signal: AbortSignal): Promise<void> {
    for (const step of steps) await this.step(step, scope, signal);
  }

  /** Runs one step with its timeout and retries, recording each attempt; returns its outputs. */
  private async step(step: Step, scope: Scope, signal: AbortSignal): Promise<Outputs> {
    const key = scope.iteration.length > 0 ? `${step.path}#${scope.iteration.join('.')}` : step.path;
    const record = await this.journal.find(key);
    // Settled before a restart: the same outcome again, never a second run.
    if (record?.status === 'succeeded' || (record?.status === 'failed' && step.onError === 'continue')) return this.remember(step, record.outputs, record.status);
    if (record?.status === 'failed') throw new StepFailure(`${label(step)} ${record.error ?? 'failed'}`);
    if (record?.status === 'cancelled') throw new Interruption('cancel', record.error ?? 'cancelled');

    const retries = step.retry?.count ?? 0;
    let attempt = record?.attempt ?? 1;
    let state: StepState;
    if (record) {
      state = record.state;
      await this.journal.log(key, `${step.path}: continuing after a daemon restart`);
    } else {
      state = await this.begin(step, key, scope, attempt);
    }
    for (;;) {
      if (step.timeoutMs && state.deadline === undefined) {
        state.deadline = Date.now() + step.timeoutMs;
        await this.journal.saveState(key, state);
      }
      const own = new AbortController();
      const stepSignal = AbortSignal.any([signal, own.signal]);
      const timer = state.deadline
        ? setTimeout(() => own.abort(new Interruption('timeout', `timed out after ${formatDuration(step.timeoutMs ?? 0)}`)), Math.max(0, state.deadline - Date.now()))
        : undefined;
      try {
        const outputs = await this.perform(step, key, scope, state, stepSignal);
        await this.journal.settle(step, key, attempt, 'succeeded', outputs, null, state.sessionId);
        return this.remember(step, outputs, 'succeeded');
      } catch (error) {
        if (signal.aborted) throw await this.interrupted(step, key, attempt, state, signal);
        const failure = error instanceof Interruption || error instanceof StepFailure ? error.message : `failed: ${message(error)}`;
        const outputs = error instanceof StepFailure ? error.outputs : {};
        if (!(error instanceof Interruption || error instanceof StepFailure)) this.deps.log.warn({ err: error, run: this.run.id, step: key }, 'a workflow step failed');
        if (attempt <= retries) {
          await this.journal.log(key, `${step.path}: attempt ${attempt} of ${retries + 1}: ${failure}; trying again${step.retry?.delayMs ? ` in ${formatDuration(step.retry.delayMs)}` : ''}`);
          // A new attempt starts its own session: the failed one's is of no more use.
          if (step.type === 'session' && state.sessionId) await this.deps.sessions.stop(state.sessionId).catch(() => undefined);
          attempt += 1;
          state = await this.begin(step, key, scope, attempt);
          if (step.retry?.delayMs) {
            try {
              await sleep(step.retry.delayMs, signal);
            } catch {
              throw await this.interrupted(step, key, attempt, state, signal);
            }
          }
          continue;
        }
        await this.journal.settle(step, key, attempt, 'failed', outputs, failure, state.sessionId);
        this.remember(step, outputs, 'failed');
        if (step.onError === 'continue') return outputs;
        throw new StepFailure(`${label(step)} ${failure}`);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** Records an attempt as begun; a new attempt of a compound step runs its steps afresh. */
  private async begin(step: Step, key: string, scope: Scope, attempt: number): Promise<StepState> {
    if (attempt > 1 && (step.type === 'if' || step.type === 'parallel' || step.type === 'foreach')) await this.journal.forgetInner(step.path, scope.iteration);
    await this.journal.begin(step, key, attempt, {});
    return {};
  }

  /**
   * A step stopped from above: the daemon stops (nothing recorded, the step
   * resumes at the next start) or the run or a sibling ends it (cancelled).
   * Returns the reason, for the caller to throw.
   */
  private async interrupted(step: Step, key: string, attempt: number, state: StepState, signal: AbortSignal): Promise<unknown> {
    if ((signal.reason as Interruption).kind !== 'shutdown') await this.cancelled(step, key, attempt, state, message(signal.reason));
    return signal.reason;
  }

  private async cancelled(step: Step, key: string, attempt: number, state: StepState, reason: string): Promise<void> {
    await this.journal.settle(step, key, attempt, 'cancelled', {}, reason, state.sessionId);
    if (step.type === 'session' && state.sessionId) await this.deps.sessions.stop(state.sessionId).catch(() => undefined);
  }

  /** Makes a step's outputs readable to later steps as `${id.field}`. */
  private remember(step: Step, outputs: Outputs, status: StepStatus): Outputs {
    if (step.type === 'set' && status === 'succeeded') Object.assign(this.vars, outputs.vars);
    if (step.id) this.outputs[step.id] = { ...outputs, status };
    return outputs;
  }

  private perform(step: Step, key: string, scope: Scope, state: StepState, signal: AbortSignal): Promise<Outputs> {
    switch (step.type) {
      case 'session':
        return this.session(step, key, scope, state, signal);
      case 'session-prompt':
        return this.prompt(step, key, scope, state, signal);
      case 'shell':
        return this.shell(step, key, scope, state, signal);
      case 'if':
        return this.branch(step, scope, signal);
      case 'parallel':
        return this.parallel(step, scope, signal);
      case 'foreach':
        return this.foreach(step, scope, signal);
      case 'set':
        return Promise.resolve(this.set(step, scope));
      case 'log':
        return this.journal.log(key, interpolate(step.message, this.context(scope))).then(() => ({}));
    }
  }

  /* ----- Sessions ----- */

  private async session(step: SessionStep, key: string, scope: Scope, state: StepState, signal: AbortSignal): Promise<Outputs> {
    const context = this.context(scope);
    if (!state.sessionId) {
      // Recorded before the start: a run resumed after a crash finds the session it started, never starts a second.
      Object.assign(state, { sessionId: randomUUID(), prompted: false, cursor: 0 });
      await this.journal.saveState(key, state);
    }
    const sessionId = state.sessionId as string;
    if (!(await this.deps.directory.resolve(sessionId).catch(() => undefined))) {
      const session = await this.deps.sessions
        .start(
          {
            provider: step.provider,
            cwd: await this.directory(step.cwd, context),
            // Names are unique: a step without an id (two may run in parallel) adds its session's id.
            name: `${step.id ?? 'step'}${scope.iteration.map((i) => `-${i}`).join('')}-${this.run.id.slice(0, 8)}${step.id ? '' : `-${sessionId.slice(0, 8)}`}`,
            env: Object.fromEntries(Object.entries(step.env).map(([name, value]) => [name, interpolate(value, context)])),
            args: step.args.map((arg) => interpolate(arg, context)),
            options: { ...(step.model !== undefined && { model: interpolate(step.model, context) }), ...(step.trust !== undefined && { trust: step.trust }) },
            ...(step.worktree && { worktree: true }),
          },
          { id: sessionId },
        )
        .catch((error: unknown) => {
          throw stepStartFailure(step, error);
        });
      await this.journal.log(key, `${step.path}: started session ${session.id.slice(0, 8)} (${session.name})`);
    }
    if (step.prompt !== undefined && !state.prompted) {
      // A refused or failed first prompt leaves no half-started session behind.
      await this.deps.sessions.input(sessionId, interpolate(step.prompt, context), true, VIA).catch(async (error: unknown) => {
        await this.deps.sessions.kill(sessionId).catch(() => undefined);
        throw stepStartFailure(step, error);
      });
      state.prompted = true;
      await this.journal.saveState(key, state);
    }
    return this.settleSession(sessionId, step.wait ?? (step.prompt === undefined ? undefined : { until: 'idle_prompt' }), state.cursor ?? 0, signal);
  }

  private async prompt(step: SessionPromptStep, key: string, scope: Scope, state: StepState, signal: AbortSignal): Promise<Outputs> {
    const sessionId = String(this.outputs[step.session]?.session_id ?? '');
    if (!sessionId) throw new StepFailure(`step "${step.session}" started no session`);
    if (!state.prompted) {
      Object.assign(state, { sessionId, cursor: await this.deps.events.latestId() });
      await this.journal.saveState(key, state);
      await this.deps.sessions.input(sessionId, interpolate(step.prompt, this.context(scope)), true, VIA);
      state.prompted = true;
      await this.journal.saveState(key, state);
    }
    return this.settleSession(sessionId, step.wait ?? { until: 'idle_prompt' }, state.cursor ?? 0, signal);
  }

  /** Waits (if asked) and gathers a session step's outputs. */
  private async settleSession(sessionId: string, wait: WaitFor | undefined, cursor: number, signal: AbortSignal): Promise<Outputs> {
    const outcome = wait ? await waitForSession(this.deps.events, sessionId, wait, cursor, signal) : undefined;
    const session = await this.deps.directory.resolve(sessionId);
    const screen = await this.deps.sessions.screen(sessionId).catch(() => ({ text: '' }));
    const result = outcome?.result ?? (wait && 'until' in wait && wait.until === 'idle_prompt' ? await this.lastAnswer(sessionId) : null);
    return {
      session_id: sessionId,
      status: session.status,
      result: result ?? '',
      output: screen.text.replace(/\s+$/, ''),
      exit_code: outcome?.exitCode ?? session.exitCode,
    };
  }

  /** The agent's last message from its transcript, for agents whose turn-end signal does not carry it. */
  private async lastAnswer(sessionId: string): Promise<string | null> {
    const entries = await this.deps.sessions.transcript(sessionId).catch(() => []);
    return entries.findLast((entry) => entry.kind === 'assistant')?.text ?? null;
  }

  /* ----- Shell ----- */

  private async shell(step: ShellStep, key: string, scope: Scope, state: StepState, signal: AbortSignal): Promise<Outputs> {
    // The guard ends a step's processes with the daemon; should it have died with it, they are ended here, before the step runs again.
    if (state.processGroup && (await endLeftoverGroup(state.processGroup))) {
      await this.journal.log(key, `${step.path}: ended the processes an earlier daemon left running (group ${state.processGroup.pgid})`);
    }
    const context = this.context(scope);
    const invocation = prepareShellCommand(step.command, context);
    const env = { ...this.deps.env, ...Object.fromEntries(Object.entries(step.env).map(([name, value]) => [name, interpolate(value, context)])) };
    const started = async (group: ProcessGroup) => {
      state.processGroup = group;
      await this.journal.saveState(key, state);
    };
    return { ...(await runShell(invocation, await this.directory(step.cwd, context), env, signal, started)) };
  }

  /** A step's directory: its `cwd` (relative to the workflow file's directory) or that directory; it must exist. */
  private async directory(cwd: string | undefined, context: InterpolationContext): Promise<string> {
    const base = this.workflow.baseDir ?? path.dirname(this.run.file);
    const dir = cwd === undefined ? base : path.resolve(base, interpolate(cwd, context));
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new StepFailure(`directory ${JSON.stringify(dir)} does not exist`);
    return dir;
  }

  /* ----- Control flow ----- */

  private async branch(step: IfStep, scope: Scope, signal: AbortSignal): Promise<Outputs> {
    const branch = evaluateCondition(step.parsedCondition, this.context(scope)) ? 'then' : 'else';
    await this.steps(step[branch], scope, signal);
    return { branch };
  }

  private async parallel(step: ParallelStep, scope: Scope, signal: AbortSignal): Promise<Outputs> {
    const siblings = new AbortController();
    const branchSignal = AbortSignal.any([signal, siblings.signal]);
    const results: Record<string, unknown> = {};
    const runBranch = async (branch: Step, index: number): Promise<number> => {
      const outputs = await this.step(branch, scope, branchSignal);
      results[branch.id ?? String(index)] = outputs.result ?? null;
      return index;
    };
    const running = step.steps.map((branch, index) =>
      runBranch(branch, index).catch((error: unknown) => {
        if (step.mode === 'all' && !siblings.signal.aborted) siblings.abort(new Interruption('cancel', 'another branch of the parallel step failed'));
        throw error;
      }),
    );
    if (step.mode === 'all') {
      const settled = await Promise.allSettled(running);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !(s.reason instanceof Interruption && s.reason.kind === 'cancel' && siblings.signal.aborted && !signal.aborted));
      if (failed) throw failed.reason;
      return { results };
    }
    let winner: number;
    try {
      winner = await Promise.any(running);
    } catch (error) {
      throw (error as AggregateError).errors.find((e) => !(e instanceof Interruption)) ?? (error as AggregateError).errors[0];
    }
    siblings.abort(new Interruption('cancel', `branch ${step.steps[winner]?.id ?? winner} finished first`));
    await Promise.allSettled(running);
    return { results, result: results[step.steps[winner]?.id ?? String(winner)] ?? null };
  }

  private async foreach(step: ForeachStep, scope: Scope, signal: AbortSignal): Promise<Outputs> {
    const items = Array.isArray(step.items) ? step.items : foreachItems(interpolateValue(step.items, this.context(scope)));
    const results: unknown[] = [];
    for (const [i, item] of items.entries()) {
      const inner: Scope = { locals: { ...scope.locals, [step.as]: item }, iteration: [...scope.iteration, i] };
      let last: unknown = null;
      for (const body of step.steps) {
        const outputs = await this.step(body, inner, signal);
        if ('result' in outputs) last = outputs.result;
      }
      results.push(last);
    }
    return { results };
  }

  private set(step: SetStep, scope: Scope): Outputs {
    const context = this.context(scope);
    const vars = Object.fromEntries(Object.entries(step.vars).map(([name, value]) => [name, typeof value === 'string' ? interpolateValue(value, context) : value]));
    return { vars };
  }
}

/** Declared variables with their defaults resolved, then the request's overrides; an override of an undeclared name is refused. */
export function startVars(workflow: Workflow, overrides: Record<string, string>, env: Record<string, string | undefined>): Record<string, unknown> {
  const unknown = Object.keys(overrides).filter((name) => !Object.hasOwn(workflow.vars, name));
  if (unknown.length > 0) {
    const declared = Object.keys(workflow.vars);
    throw badRequest(`unknown variable${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: ${declared.length > 0 ? `the workflow declares ${declared.join(', ')}` : 'the workflow declares no vars'}`);
  }
  const vars: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(workflow.vars)) {
    vars[name] = overrides[name] ?? (typeof value === 'string' ? interpolateValue(value, { steps: {}, vars, env }) : value);
  }
  return vars;
}

/** A session step's start refused: what to change in the workflow file, where the API's message does not say it. */
function stepStartFailure(step: SessionStep, error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  // The provider's options schema refuses `trust` (only claude-code has it): say which field of the file that is.
  if (step.trust !== undefined && code === 'invalid_request' && /\btrust\b/.test(message(error))) {
    return new StepFailure(`${message(error)} (a session step's trust is for provider claude-code)`);
  }
  // Claude Code asked whether to trust the folder: in a file, `--trust` is the step's `trust: true`.
  if (code === 'folder_not_trusted' && step.trust !== true) return new StepFailure(`${message(error)} (in a workflow: trust: true on the session step)`);
  return error;
}
