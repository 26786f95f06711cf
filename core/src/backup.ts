import fs from 'node:fs';
import path from 'node:path';
import { badRequest, CodePiperError, type Store } from '@codepiper/sdk';

/**
 * Writes a consistent copy of the database to `file`, a new file (0600):
 * SQLite's VACUUM INTO reads one snapshot while the daemon goes on writing.
 * A copy that fails half-way (a full disk) is removed.
 */
export async function backUpDatabase(store: Store, file: string): Promise<{ path: string; bytes: number }> {
  if (!path.isAbsolute(file)) throw badRequest(`the backup's path must be absolute, not ${JSON.stringify(file)}`);
  try {
    // Made here, empty and private, so that the copy is never readable by others; VACUUM INTO takes an empty file.
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'EEXIST') throw new CodePiperError('file_exists', `${file} exists: a backup goes to a new file`);
    throw badRequest(`cannot write ${file}: ${code === 'ENOENT' ? 'its directory does not exist' : message}`);
  }
  try {
    await store.run('VACUUM INTO ?', [file]);
  } catch (error) {
    fs.rmSync(file, { force: true });
    throw new CodePiperError('backup_failed', `could not write the backup to ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { path: file, bytes: fs.statSync(file).size };
}
