import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { badRequest, CodePiperError } from '@codepiper/sdk';
import { isFinished } from '@codepiper/sessions-contract';
import type { CodePiperEvent } from '@codepiper/events-contract';
import type { RunEventPayload, StartRunRequest, WorkflowRun, WorkflowRunDetail } from '@codepiper/workflows-contract';
import type { Workflow } from '../ast.js';
import { parseWorkflow } from '../parse.js';
import { RunExecutor, startVars, workflowEnv, type ExecutorDeps } from './executor.js';
import { Interruption } from './interruption.js';
import { RunJournal } from './journal.js';
import { publicRun, type RunStore, type StoredRun } from './store.js';

const LOG_PAGE = 1000;

interface ActiveRun {
  controller: AbortController;
  done: Promise<void>;
}

/** Starts runs, resumes them after a restart, cancels them; one executor per running run. */
export class WorkflowRunner {
  private readonly active = new Map<string, ActiveRun>();

  constructor(
    private readonly store: RunStore,
    private readonly deps: ExecutorDeps,
  ) {}

  async start(request: StartRunRequest): Promise<WorkflowRun> {
    if (!path.isAbsolute(request.file)) throw badRequest(`file must be an absolute path: ${JSON.stringify(request.file)}`);
    const { workflow, errors } = parseWorkflow(request.source, request.file);
    if (!workflow) throw new CodePiperError('invalid_workflow', `${request.file} does not validate (${errors.length} ${errors.length === 1 ? 'error' : 'errors'})`, { errors });
    const vars = request.vars ?? {};
    // Refuses an override of an undeclared variable now, before anything starts.
    startVars(workflow, vars, workflowEnv(workflow, request.env ?? {}, this.deps.env));
    const run = await this.store.create({
      id: randomUUID(),
      name: workflow.name,
      file: request.file,
      source: request.source,
      vars,
      env: Object.fromEntries(workflow.envNames.flatMap((name) => (request.env?.[name] === undefined ? [] : [[name, request.env[name]]]))),
      eventCursor: await this.deps.events.latestId(),
    });
    const journal = new RunJournal(run, this.store, this.deps.events);
    await journal.runEvent('running', null);
    this.launch(run, workflow, journal);
    return publicRun(run);
  }

  /** Continues every run the daemon was running when it stopped. */
  async resumeAll(): Promise<void> {
    for (const run of await this.store.list({ status: 'running', limit: 1000 })) {
      const journal = new RunJournal(run, this.store, this.deps.events);
      const { workflow } = parseWorkflow(run.source, run.file);
      if (!workflow) {
        await this.finish(run, journal, 'failed', 'the stored workflow no longer validates');
        continue;
      }
      await journal.log(null, `run ${run.id.slice(0, 8)} continues after a daemon restart`);
      this.launch(run, workflow, journal);
    }
  }

  async list(filter: { status?: WorkflowRun['status']; limit?: number }): Promise<WorkflowRun[]> {
    return (await this.store.list(filter)).map(publicRun);
  }

  async show(ref: string): Promise<WorkflowRunDetail> {
    const run = await this.store.resolve(ref);
    const steps = await this.store.steps(run.id);
    return { ...publicRun(run), steps: steps.map(({ state: _state, ...step }) => step) };
  }

  /** The run's events (workflow.run, workflow.step, workflow.log), oldest first. */
  async logs(ref: string): Promise<CodePiperEvent[]> {
    const run = await this.store.resolve(ref);
    const own: CodePiperEvent[] = [];
    for (let after = run.eventCursor; ; ) {
      const page = await this.deps.events.list({ type: 'workflow.*', after, limit: LOG_PAGE });
      for (const event of page) {
        const payload = event.payload as Partial<RunEventPayload> | null;
        if (payload?.run !== run.id) continue;
        own.push(event);
        // The run's last event: nothing of it comes later.
        if (event.type === 'workflow.run' && payload.status !== 'running') return own;
      }
      if (page.length < LOG_PAGE) return own;
      after = page.at(-1)?.id ?? after;
    }
  }

  /** Cancels a running run: its running steps stop, then every session it started that still runs is stopped. */
  async cancel(ref: string): Promise<WorkflowRun> {
    const run = await this.store.resolve(ref);
    if (run.status !== 'running') throw new CodePiperError('run_finished', `run ${run.id.slice(0, 8)} has already ${run.status}`);
    const active = this.active.get(run.id);
    if (active) {
      active.controller.abort(new Interruption('cancel', 'the run was cancelled'));
      await active.done;
    } else {
      await this.finish(run, new RunJournal(run, this.store, this.deps.events), 'cancelled', null);
    }
    await Promise.all(
      (await this.store.sessionIds(run.id)).map(async (id) => {
        const session = await this.deps.directory.resolve(id).catch(() => undefined);
        if (session && !isFinished(session.status)) await this.deps.sessions.stop(id).catch((error: unknown) => this.deps.log.warn({ err: error, session: id }, 'could not stop a cancelled run’s session'));
      }),
    );
    return publicRun(await this.store.get(run.id));
  }

  /** Stops every executor without recording anything: their runs continue at the next start. */
  async shutdown(): Promise<void> {
    for (const { controller } of this.active.values()) controller.abort(new Interruption('shutdown', 'the daemon is stopping'));
    await Promise.all([...this.active.values()].map((run) => run.done));
  }

  private launch(run: StoredRun, workflow: Workflow, journal: RunJournal): void {
    const controller = new AbortController();
    const executor = new RunExecutor(run, workflow, journal, this.deps);
    const done = executor.execute(controller.signal).then(
      () => this.finish(run, journal, 'succeeded', null),
      (error: unknown) => {
        if (error instanceof Interruption && error.kind === 'shutdown') return;
        if (error instanceof Interruption && error.kind === 'cancel') return this.finish(run, journal, 'cancelled', null);
        return this.finish(run, journal, 'failed', error instanceof Error ? error.message : String(error));
      },
    );
    const tracked = done
      .catch((error: unknown) => this.deps.log.error({ err: error, run: run.id }, 'recording the end of a workflow run failed'))
      .finally(() => this.active.delete(run.id));
    this.active.set(run.id, { controller, done: tracked });
  }

  private async finish(run: StoredRun, journal: RunJournal, status: 'succeeded' | 'failed' | 'cancelled', error: string | null): Promise<void> {
    await this.store.finish(run.id, status, error);
    await journal.runEvent(status, error);
  }
}
