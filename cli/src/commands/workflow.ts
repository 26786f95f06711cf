import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CAC } from 'cac';
import { workflowEndpoints, type WorkflowValidation } from '@codepiper/sdk';
import { connect } from '../client.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { print, printJson } from '../output.js';

/** `FILE:LINE:COL: path: message` per error, like a compiler; `FILE: valid (N steps)` when there are none. */
export function formatValidation(file: string, result: WorkflowValidation): string[] {
  if (result.ok) return [`${file}: valid (${result.stepCount} ${result.stepCount === 1 ? 'step' : 'steps'})`];
  return result.errors.map((e) => `${file}:${e.line}:${e.column}: ${e.path ? `${e.path}: ` : ''}${e.message}`);
}

async function validate(file: string, json: boolean | undefined): Promise<number> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const result = await connect().call(workflowEndpoints.validate, { body: { source, file: path.resolve(file) } });
  if (json) printJson(result);
  else for (const line of formatValidation(file, result)) print(line);
  return result.ok ? 0 : EXIT_FAILURE;
}

export function registerWorkflowCommands(cli: CAC): void {
  cli
    .command('workflow <action> [file]', 'Workflows: `workflow validate FILE` checks a workflow file and reports every error with line, column and step path')
    .usage('workflow validate FILE [--json]')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper workflow validate examples/workflows/test-and-fix.yaml')
    .action(async (action: string, file: string | undefined, options: { json?: boolean }) => {
      switch (action) {
        case 'validate':
          if (file === undefined) throw new UsageError('workflow validate needs a FILE');
          return validate(file, options.json);
        default:
          throw new UsageError(`unknown workflow action "${action}" (expected validate)`);
      }
    });
}
