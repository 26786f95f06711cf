import { Type, type Static } from '@sinclair/typebox';
import { defineEndpoint } from './api.js';

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
});
export type WorkflowValidation = Static<typeof WorkflowValidationSchema>;

export const workflowEndpoints = {
  validate: defineEndpoint({
    method: 'POST',
    url: '/workflows/validate',
    summary: 'Validate a workflow file: every error with its line, column and step path',
    tags: ['workflows'],
    body: ValidateWorkflowSchema,
    response: WorkflowValidationSchema,
  }),
};
