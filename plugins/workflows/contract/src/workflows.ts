import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, ENV_NAME_PATTERN, IsoTime, Nullable } from '@codepiper/sdk';
import { EventSchema } from '@codepiper/events-contract';

/**
 * Workflows: YAML files that chain sessions (see plugins/workflows). The
 * daemon validates a workflow's text with the same validator a run uses; a
 * file that fails validation never starts.
 */
export const WorkflowErrorSchema = Type.Object({
  path: Type.String({ description: 'The step path, e.g. steps[1].then[0].prompt; empty for a YAML syntax error' }),
  line: Type.Integer({ minimum: 1 }),
  column: Type.Integer({ minimum: 1 }),
  message: Type.String(),
});
export type WorkflowValidationError = Static<typeof WorkflowErrorSchema>;

export const ValidateWorkflowSchema = Type.Object({
  source: Type.String({ maxLength: 1_048_576, description: 'The text of the workflow file' }),
  file: Type.Optional(Type.String({ maxLength: 4096, description: 'Its path, for relative cwds and messages' })),
});

export const WorkflowValidationSchema = Type.Object({
  ok: Type.Boolean(),
  errors: Type.Array(WorkflowErrorSchema),
  name: Type.Optional(Type.String()),
  stepCount: Type.Integer({ minimum: 0, description: 'Steps in the file, nested ones included' }),
  envNames: Type.Optional(Type.Array(Type.String(), { description: 'Names the file reads as ${env.NAME}: what a client sends with a run' })),
});
export type WorkflowValidation = Static<typeof WorkflowValidationSchema>;

export const WorkflowFileSchema = Type.Object({
  file: Type.String({ description: 'Absolute path' }),
  name: Nullable(Type.String({ description: 'The workflow’s name, when the file validates' })),
  source: Type.String(),
  errors: Type.Array(WorkflowErrorSchema),
  vars: Type.Record(Type.String(), Type.Unknown(), { description: 'Declared variables and their defaults' }),
});
export type WorkflowFile = Static<typeof WorkflowFileSchema>;

export const SaveWorkflowSchema = Type.Object(
  {
    file: Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute path directly in one of the workflow directories, named NAME.yaml or NAME.yml' }),
    source: ValidateWorkflowSchema.properties.source,
  },
  { additionalProperties: false },
);

export const workflowEndpoints = {
  validate: defineEndpoint({
    method: 'POST',
    url: '/workflows/validate',
    summary: 'Validate a workflow file: every error with its line, column and step path',
    tags: ['workflows'],
    body: ValidateWorkflowSchema,
    response: WorkflowValidationSchema,
  }),
  files: defineEndpoint({
    method: 'GET',
    url: '/workflows/files',
    summary: 'Workflow files (*.yaml, *.yml) in the workflow directories ($CODEPIPER_HOME/workflows and `workflows.dirs`), each validated',
    tags: ['workflows'],
    response: Type.Object({ dirs: Type.Array(Type.String()), files: Type.Array(WorkflowFileSchema) }),
  }),
  save: defineEndpoint({
    method: 'PUT',
    url: '/workflows/files',
    summary: 'Write a workflow file, new or replacing one, in a workflow directory (saved even when it does not validate: answered with its errors); refused from inside a session',
    tags: ['workflows'],
    body: SaveWorkflowSchema,
    response: WorkflowFileSchema,
    control: true,
  }),
};

/* ----- Runs ----- */

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const STEP_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

const RunStatusSchema = Type.Union(RUN_STATUSES.map((s) => Type.Literal(s)));
const StepStatusSchema = Type.Union(STEP_STATUSES.map((s) => Type.Literal(s)));

export const WorkflowRunSchema = Type.Object({
  id: Type.String({ description: 'UUID; commands take a unique prefix' }),
  name: Type.String(),
  file: Type.String({ description: 'The workflow file the run was started from' }),
  status: RunStatusSchema,
  error: Nullable(Type.String({ description: 'Why the run failed' })),
  vars: Type.Record(Type.String(), Type.Unknown(), { description: 'The --var values the run was started with (declared defaults apply to the rest)' }),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  finishedAt: Nullable(IsoTime),
  eventCursor: Type.Integer({ minimum: 0, description: 'The newest event id before the run began: its events (workflow.*) come after it' }),
});
export type WorkflowRun = Static<typeof WorkflowRunSchema>;

export const RunStepSchema = Type.Object({
  key: Type.String({ description: 'The step path, with the iteration for steps inside a foreach: steps[1].steps[0]#2' }),
  path: Type.String(),
  id: Nullable(Type.String()),
  type: Type.String(),
  status: StepStatusSchema,
  attempt: Type.Integer({ minimum: 1 }),
  startedAt: IsoTime,
  finishedAt: Nullable(IsoTime),
  error: Nullable(Type.String()),
  sessionId: Nullable(Type.String({ description: 'The session a session step started or prompted' })),
  outputs: Type.Record(Type.String(), Type.Unknown(), { description: 'What later steps read as ${id.field}' }),
});
export type RunStep = Static<typeof RunStepSchema>;

export const WorkflowRunDetailSchema = Type.Intersect([WorkflowRunSchema, Type.Object({ steps: Type.Array(RunStepSchema, { description: 'Steps that have started, in start order' }) })]);
export type WorkflowRunDetail = Static<typeof WorkflowRunDetailSchema>;

const VarName = Type.String({ pattern: ENV_NAME_PATTERN });

export const StartRunSchema = Type.Object(
  {
    source: ValidateWorkflowSchema.properties.source,
    file: Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute path of the file: relative cwds start from its directory' }),
    vars: Type.Optional(Type.Record(VarName, Type.String({ maxLength: 65536 }), { description: 'Overrides of declared variables (--var k=v)' })),
    env: Type.Optional(
      Type.Record(VarName, Type.String({ maxLength: 65536 }), { description: 'Values for ${env.NAME}; names not given read the daemon’s environment' }),
    ),
  },
  { additionalProperties: false },
);
export type StartRunRequest = Static<typeof StartRunSchema>;

/** Payloads of the events a run records (`workflow.run`, `workflow.step`, `workflow.log`); each names its run. */
export interface RunEventPayload {
  run: string;
  status: RunStatus;
  name: string;
  error?: string | null;
}
export interface StepEventPayload {
  run: string;
  key: string;
  id: string | null;
  type: string;
  status: StepStatus;
  attempt: number;
  error?: string | null;
  sessionId?: string | null;
}
export interface LogEventPayload {
  run: string;
  key: string | null;
  message: string;
}

/** One event of a run as a line of its log (without the time): what the CLI prints and the dashboard shows. */
export function describeRunEvent(event: { type: string; payload: unknown }): string {
  switch (event.type) {
    case 'workflow.run': {
      const run = event.payload as RunEventPayload;
      return `run ${run.run.slice(0, 8)} ${run.name}: ${run.status}${run.error ? `: ${run.error}` : ''}`;
    }
    case 'workflow.step': {
      const step = event.payload as StepEventPayload;
      const attempt = step.attempt > 1 ? ` [attempt ${step.attempt}]` : '';
      return `${step.key}${step.id ? ` ${step.id}` : ''} (${step.type}): ${step.status}${attempt}${step.error ? `: ${step.error}` : ''}`;
    }
    default:
      return (event.payload as LogEventPayload).message;
  }
}

const RunParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'Run id or unique prefix' }) });

export const workflowRunEndpoints = {
  start: defineEndpoint({
    method: 'POST',
    url: '/workflows/runs',
    summary: 'Validate a workflow and start a run of it; 400 with every error when it does not validate',
    tags: ['workflows'],
    body: StartRunSchema,
    response: WorkflowRunSchema,
  }),
  list: defineEndpoint({
    method: 'GET',
    url: '/workflows/runs',
    summary: 'Runs, newest first',
    tags: ['workflows'],
    query: Type.Object({ status: Type.Optional(RunStatusSchema), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) }),
    response: Type.Object({ runs: Type.Array(WorkflowRunSchema) }),
  }),
  show: defineEndpoint({
    method: 'GET',
    url: '/workflows/runs/:id',
    summary: 'A run with the state and outputs of its steps',
    tags: ['workflows'],
    params: RunParams,
    response: WorkflowRunDetailSchema,
  }),
  logs: defineEndpoint({
    method: 'GET',
    url: '/workflows/runs/:id/logs',
    summary: 'The run’s events (workflow.run, workflow.step, workflow.log), oldest first',
    tags: ['workflows'],
    params: RunParams,
    response: Type.Object({ events: Type.Array(EventSchema) }),
  }),
  cancel: defineEndpoint({
    method: 'POST',
    url: '/workflows/runs/:id/cancel',
    summary: 'Cancel a running run: its running steps stop and the sessions it started are stopped',
    tags: ['workflows'],
    params: RunParams,
    response: WorkflowRunSchema,
  }),
};
