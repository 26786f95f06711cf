import { readFile } from 'node:fs/promises';

/** A file the user named (a workflow, a policy set), with a message that names it when it cannot be read. */
export async function readUserFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}
