import type { Condition } from './condition.js';

/** The parsed, validated form of a workflow file. Durations are in milliseconds. */
export interface Workflow {
  name: string;
  description?: string;
  /** The file it was read from, as given to `parseWorkflow`. */
  file?: string;
  /** The directory a session's or shell's relative `cwd` is resolved against; the file's directory. */
  baseDir?: string;
  /** Declared variables with their defaults; `--var k=v` overrides them. */
  vars: Record<string, unknown>;
  /** Every NAME the file reads as `${env.NAME}`, sorted. */
  envNames: string[];
  steps: Step[];
}

export type StepType = Step['type'];

export interface StepBase {
  /** Where the step is in the file: `steps[1].then[0]`. */
  path: string;
  line: number;
  column: number;
  id?: string;
  timeoutMs?: number;
  retry?: { count: number; delayMs: number };
  onError: 'fail' | 'continue';
}

export type WaitFor =
  | { until: 'idle_prompt' | 'permission' | 'exit'; timeoutMs?: number }
  | { event: string; timeoutMs?: number };

/** Starts a session. Strings may hold `${...}` references, resolved when the step runs. */
export interface SessionStep extends StepBase {
  type: 'session';
  provider: string;
  /** Relative to the workflow's `baseDir`; that directory when absent. */
  cwd?: string;
  model?: string;
  /** The provider's `trust` option: claude-code answers its folder-trust question with yes. */
  trust?: boolean;
  /** Runs in a git worktree of its own, on a branch named after the session: parallel sessions never share a checkout. */
  worktree?: boolean;
  prompt?: string;
  env: Record<string, string>;
  args: string[];
  wait?: WaitFor;
}

/** `session: <id>`: a follow-up prompt to the session an earlier step started. */
export interface SessionPromptStep extends StepBase {
  type: 'session-prompt';
  session: string;
  prompt: string;
  wait?: WaitFor;
}

export interface IfStep extends StepBase {
  type: 'if';
  condition: string;
  parsedCondition: Condition;
  then: Step[];
  else: Step[];
}

export interface ParallelStep extends StepBase {
  type: 'parallel';
  mode: 'all' | 'first';
  steps: Step[];
}

export interface ForeachStep extends StepBase {
  type: 'foreach';
  /** A literal list, or a template (one `${...}` reference) resolved when the step runs. */
  items: unknown[] | string;
  as: string;
  steps: Step[];
}

export interface ShellStep extends StepBase {
  type: 'shell';
  /** An argv (no shell), or a string run by `sh -c` with values passed as positional parameters (see `prepareShellCommand`). */
  command: string | string[];
  cwd?: string;
  env: Record<string, string>;
}

export interface SetStep extends StepBase {
  type: 'set';
  vars: Record<string, unknown>;
}

export interface LogStep extends StepBase {
  type: 'log';
  message: string;
}

export type Step = SessionStep | SessionPromptStep | IfStep | ParallelStep | ForeachStep | ShellStep | SetStep | LogStep;

/** One validation error: where (1-based line and column, step path) and what. */
export interface WorkflowError {
  path: string;
  line: number;
  column: number;
  message: string;
}

/** Every step of a list, nested ones included, in document order. */
export function allSteps(steps: readonly Step[]): Step[] {
  return steps.flatMap((step) => {
    switch (step.type) {
      case 'if':
        return [step, ...allSteps(step.then), ...allSteps(step.else)];
      case 'parallel':
      case 'foreach':
        return [step, ...allSteps(step.steps)];
      default:
        return [step];
    }
  });
}
