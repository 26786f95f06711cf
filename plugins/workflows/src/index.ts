import { definePlugin, SDK_CONTRACT_VERSION, workflowEndpoints } from '@codepiper/sdk';
import { parseWorkflow } from './parse.js';

export * from './ast.js';
export { parseWorkflow, type ParseResult } from './parse.js';
export { parseCondition, evaluateCondition, conditionReferences, ConditionError, ConditionEvaluationError, type Condition, type CompareOp, type Operand } from './condition.js';
export { interpolate, interpolateValue, parseTemplate, resolveReference, stringify, InterpolationError, TemplateError, type InterpolationContext, type Reference, type TemplatePart } from './interpolate.js';
export { prepareShellCommand, shellScript, type ShellInvocation } from './shell.js';
export { parseDuration } from './duration.js';
export { foreachItems } from './items.js';

export default definePlugin({
  name: 'workflows',
  contract: SDK_CONTRACT_VERSION,
  description: 'Workflows: YAML files that chain sessions; parsing and validation (the run engine comes later)',
  register(ctx) {
    ctx.api.handle(workflowEndpoints.validate, async ({ body }) => {
      const { workflow, errors, stepCount } = parseWorkflow(body.source, body.file);
      return { ok: errors.length === 0, errors, stepCount, ...(workflow ? { name: workflow.name } : {}) };
    });
  },
});
