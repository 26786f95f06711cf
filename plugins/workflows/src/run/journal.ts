import type { EventLog } from '@codepiper/events-contract';
import type { LogEventPayload, RunEventPayload, StepEventPayload, StepStatus } from '@codepiper/workflows-contract';
import type { Step } from '../ast.js';
import type { RunStore, StepState, StoredRun, StoredStep } from './store.js';

export const SOURCE = 'workflows';

/**
 * One run's record keeping: each change of a step is written to the store,
 * then told as an event (`workflow.step`, `workflow.log`, `workflow.run`),
 * which is what `workflow run` shows live and `workflow logs` replays.
 */
export class RunJournal {
  constructor(
    private readonly run: StoredRun,
    private readonly store: RunStore,
    private readonly events: EventLog,
  ) {}

  find(key: string): Promise<StoredStep | undefined> {
    return this.store.step(this.run.id, key);
  }

  async begin(step: Step, key: string, attempt: number, state: StepState): Promise<void> {
    await this.store.begin(this.run.id, { key, path: step.path, id: step.id ?? null, type: step.type, attempt, state });
    await this.stepEvent(step, key, attempt, 'running', null, null);
  }

  forgetInner(path: string, iteration: readonly number[]): Promise<void> {
    return this.store.forgetInner(this.run.id, path, iteration);
  }

  saveState(key: string, state: StepState): Promise<void> {
    return this.store.saveState(this.run.id, key, state);
  }

  async settle(step: Step, key: string, attempt: number, status: Exclude<StepStatus, 'running'>, outputs: Record<string, unknown>, error: string | null, sessionId: string | undefined): Promise<void> {
    await this.store.settle(this.run.id, key, status, outputs, error);
    await this.stepEvent(step, key, attempt, status, error, sessionId ?? null);
  }

  async log(key: string | null, message: string): Promise<void> {
    const payload: LogEventPayload = { run: this.run.id, key, message };
    await this.events.append({ sessionId: null, type: 'workflow.log', payload }, SOURCE);
  }

  async runEvent(status: RunEventPayload['status'], error: string | null): Promise<void> {
    const payload: RunEventPayload = { run: this.run.id, name: this.run.name, status, error };
    await this.events.append({ sessionId: null, type: 'workflow.run', payload }, SOURCE);
  }

  private async stepEvent(step: Step, key: string, attempt: number, status: StepStatus, error: string | null, sessionId: string | null): Promise<void> {
    const payload: StepEventPayload = { run: this.run.id, key, id: step.id ?? null, type: step.type, status, attempt, error, sessionId };
    await this.events.append({ sessionId: null, type: 'workflow.step', payload }, SOURCE);
  }
}
