import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CodePiperError } from '@codepiper/sdk';
import type { WorkflowFile } from '@codepiper/workflows-contract';
import { parseWorkflow } from './parse.js';

/** What a saved workflow file may be called: no path, no hidden file. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$/;

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
      files.push(describeFile(file, source));
    }
  }
  return files.sort((a, b) => a.file.localeCompare(b.file));
}

/**
 * Writes a workflow file directly in one of `dirs` (made if missing): whole
 * or not at all, through a temporary file renamed over it. Saved even when it
 * does not validate (a draft); answered with its errors.
 */
export async function saveWorkflowFile(dirs: readonly string[], file: string, source: string): Promise<WorkflowFile> {
  const target = path.resolve(file);
  if (!dirs.includes(path.dirname(target)) || !FILE_NAME.test(path.basename(target))) {
    throw new CodePiperError('invalid_request', `${file}: a workflow file is saved directly in ${dirs.join(' or ')}, named NAME.yaml or NAME.yml`);
  }
  await mkdir(path.dirname(target), { recursive: true });
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.tmp`);
  try {
    await writeFile(temporary, source, { mode: 0o644, flag: 'wx' });
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return describeFile(target, source);
}

function describeFile(file: string, source: string): WorkflowFile {
  const { workflow, errors } = parseWorkflow(source, file);
  return { file, name: workflow?.name ?? null, source, vars: workflow?.vars ?? {}, errors };
}
