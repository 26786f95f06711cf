import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowFile } from '@codepiper/sdk';
import { parseWorkflow } from './parse.js';

/** Larger files are listed with an error instead of being read whole. */
const MAX_FILE_BYTES = 1_048_576;

/** Every `*.yaml` / `*.yml` file directly in `dirs` (missing directories are skipped), validated, by path. */
export async function workflowFiles(dirs: readonly string[]): Promise<WorkflowFile[]> {
  const files: WorkflowFile[] = [];
  for (const dir of dirs) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isFile() || !/\.ya?ml$/.test(entry.name)) continue;
      const file = path.join(dir, entry.name);
      const source = await readFile(file, 'utf8').catch(() => undefined);
      if (source === undefined || source.length > MAX_FILE_BYTES) {
        files.push({ file, name: null, source: '', vars: {}, errors: [{ path: '', line: 1, column: 1, message: source === undefined ? 'cannot be read' : 'larger than 1 MiB' }] });
        continue;
      }
      const { workflow, errors } = parseWorkflow(source, file);
      files.push({ file, name: workflow?.name ?? null, source, vars: workflow?.vars ?? {}, errors });
    }
  }
  return files.sort((a, b) => a.file.localeCompare(b.file));
}
