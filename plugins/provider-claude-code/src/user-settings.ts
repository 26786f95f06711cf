import { isDeepStrictEqual } from 'node:util';
import { chmod, lstat, readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Claude Code 2.1.x saves every `/model X` typed in a terminal as the user's
 * default (`model` in `<config dir>/settings.json`), and this version has no
 * setting or variable to keep it to the session. So a switch made by CodePiper
 * is bracketed: the file's bytes and mode are taken before, and put back once
 * Claude has confirmed, if and only if what changed is the `model` key.
 */

export interface SettingsSnapshot {
  /** The file actually written (a symlinked settings.json is written through by Claude). */
  file: string;
  /** null: there was no file. */
  bytes: Buffer | null;
  mode: number;
}

export type RestoreOutcome = 'unchanged' | 'restored' | 'left: changed otherwise';

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** `<config dir>/settings.json`, through a symlink if it is one. */
async function settingsFile(configDir: string): Promise<string> {
  const file = path.join(configDir, 'settings.json');
  try {
    return (await lstat(file)).isSymbolicLink() ? await realpath(file) : file;
  } catch (error) {
    if (isMissing(error)) return file;
    throw error;
  }
}

export async function snapshotUserSettings(configDir: string): Promise<SettingsSnapshot> {
  const file = await settingsFile(configDir);
  const bytes = await readOrNull(file);
  const mode = bytes === null ? 0o600 : (await stat(file)).mode & 0o7777;
  return { file, bytes, mode };
}

function parseObject(bytes: Buffer | null): Record<string, unknown> | undefined {
  if (bytes === null || bytes.toString('utf8').trim() === '') return {};
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function withoutModel(settings: Record<string, unknown>): Record<string, unknown> {
  const { model: _model, ...rest } = settings;
  return rest;
}

/**
 * True when `now` is `before` with only its `model` key set (Claude's own
 * rewrite: it may also reformat the file). Claude saves the model as it
 * resolved it (an alias lowercased), so any string counts.
 */
export function onlyModelChanged(before: Buffer | null, now: Buffer | null): boolean {
  const old = parseObject(before);
  const current = parseObject(now);
  if (!old || !current || now === null) return false;
  return typeof current.model === 'string' && isDeepStrictEqual(withoutModel(old), withoutModel(current));
}

/** Puts the snapshot back: same bytes and mode via a temp file and a rename, or no file if there was none. */
async function putBack(snapshot: SettingsSnapshot): Promise<void> {
  if (snapshot.bytes === null) {
    await unlink(snapshot.file).catch((error: unknown) => {
      if (!isMissing(error)) throw error;
    });
    return;
  }
  const temp = path.join(path.dirname(snapshot.file), `.${path.basename(snapshot.file)}.codepiper-${process.pid}-${Date.now()}`);
  try {
    await writeFile(temp, snapshot.bytes, { mode: snapshot.mode, flag: 'wx' });
    await chmod(temp, snapshot.mode);
    await rename(temp, snapshot.file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * Restores the user's settings after Claude saved `model` in them. A change
 * other than `model` (the user, or another program, edited the file meanwhile)
 * is left alone. Race: an edit made by the user between Claude's write and the
 * rename that touches `model` alone is undone.
 */
export async function restoreUserSettings(snapshot: SettingsSnapshot): Promise<RestoreOutcome> {
  const now = await readOrNull(snapshot.file);
  const same = now === null ? snapshot.bytes === null : snapshot.bytes !== null && now.equals(snapshot.bytes);
  if (same) return 'unchanged';
  if (!onlyModelChanged(snapshot.bytes, now)) return 'left: changed otherwise';
  await putBack(snapshot);
  return 'restored';
}
