import { definePlugin } from '@codepiper/sdk';
import { eventLogRef } from '@codepiper/events-contract';
import { sessionControlRef, sessionDirectoryRef } from '@codepiper/sessions-contract';
import { workflowEndpoints, workflowRunEndpoints } from '@codepiper/workflows-contract';
import path from 'node:path';
import * as Type from '@sinclair/typebox';
import { saveWorkflowFile, workflowFiles } from './files.js';
import { parseWorkflow } from './parse.js';
import { WorkflowRunner } from './run/runner.js';
import { migrations, RunStore } from './run/store.js';

export * from './ast.js';
export { parseWorkflow, type ParseResult } from './parse.js';
export { parseCondition, evaluateCondition, conditionReferences, ConditionError, ConditionEvaluationError, type Condition, type CompareOp, type Operand } from './condition.js';
export { interpolate, interpolateValue, parseTemplate, resolveReference, stringify, InterpolationError, TemplateError, type InterpolationContext, type Reference, type TemplatePart } from './interpolate.js';
export { prepareShellCommand, shellScript, type ShellInvocation } from './shell.js';
export { formatDuration, parseDuration } from './duration.js';
export { foreachItems } from './items.js';

export default definePlugin({
  name: 'workflows',
  api: '^1.0.0',
  description: 'Workflows: YAML files that chain sessions, validated, run step by step and resumed after a daemon restart',
  uses: [eventLogRef, sessionControlRef, sessionDirectoryRef],
  config: Type.Object({
    dirs: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'More directories of workflow files for the dashboard, besides $CODEPIPER_HOME/workflows' }),
  }),
  register(ctx) {
    const dirs = [path.join(ctx.paths.home, 'workflows'), ...ctx.config.dirs.map((dir) => path.resolve(ctx.paths.home, dir))];
    let runner: WorkflowRunner | undefined;
    const running = (): WorkflowRunner => {
      if (!runner) throw new Error('the workflows plugin has not started');
      return runner;
    };
    ctx.migrations(migrations);

    ctx.api.handle(workflowEndpoints.validate, async ({ body }) => {
      const { workflow, errors, stepCount } = parseWorkflow(body.source, body.file);
      return { ok: errors.length === 0, errors, stepCount, ...(workflow ? { name: workflow.name, envNames: workflow.envNames } : {}) };
    });
    ctx.api.handle(workflowEndpoints.files, async () => ({ dirs, files: await workflowFiles(dirs) }));
    ctx.api.handle(workflowEndpoints.save, ({ body }) => saveWorkflowFile(dirs, body.file, body.source));
    ctx.api.handle(workflowRunEndpoints.start, ({ body }) => running().start(body));
    ctx.api.handle(workflowRunEndpoints.list, async ({ query }) => ({ runs: await running().list(query) }));
    ctx.api.handle(workflowRunEndpoints.show, ({ params }) => running().show(params.id));
    ctx.api.handle(workflowRunEndpoints.cancel, ({ params }) => running().cancel(params.id));
    ctx.api.handle(workflowRunEndpoints.logs, async ({ params }) => ({ events: await running().logs(params.id) }));

    return {
      async start() {
        runner = new WorkflowRunner(new RunStore(ctx.store), {
          sessions: ctx.services.get(sessionControlRef),
          directory: ctx.services.get(sessionDirectoryRef),
          events: ctx.services.get(eventLogRef),
          env: ctx.env,
          log: ctx.log,
        });
        await runner.resumeAll();
      },
      async stop() {
        await runner?.shutdown();
      },
    };
  },
});
