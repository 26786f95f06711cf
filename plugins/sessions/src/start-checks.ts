// What a start request is checked against before anything is launched: its directory, its program, its provider's options.
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { badRequest, CodePiperError } from '@codepiper/sdk';
import type { SessionProvider, StartSessionRequest } from '@codepiper/sessions-contract';

/** `dir`, which must be an absolute path to an existing directory. */
export async function existingDirectory(dir: string): Promise<string> {
  if (!path.isAbsolute(dir)) throw badRequest(`directory must be an absolute path: ${JSON.stringify(dir)}`);
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new CodePiperError('invalid_directory', `directory does not exist: ${dir}`);
  if (!info.isDirectory()) throw new CodePiperError('invalid_directory', `not a directory: ${dir}`);
  return path.resolve(dir);
}

/** A start on another host: its directory is absolute (the host's to check), and it has no worktree (made on this machine only). */
export function assertRemoteStart(request: StartSessionRequest): void {
  if (!request.cwd.startsWith('/')) throw badRequest(`the directory on ${request.host} must be an absolute path, not "${request.cwd}"`);
  if (request.worktree) throw badRequest(`worktrees are made on this machine only, not on ${request.host}`);
}

/** The executable file `program` names: itself if it has a slash, else the first on `searchPath`. */
export async function findProgram(program: string, searchPath: string | undefined): Promise<string | undefined> {
  const candidates = program.includes('/') ? [program] : (searchPath ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, program));
  for (const candidate of candidates) {
    const ok = await access(candidate, constants.X_OK).then(() => stat(candidate)).then((s) => s.isFile(), () => false);
    if (ok) return candidate;
  }
  return undefined;
}

/** The options with the provider's defaults applied, checked against its schema. */
export function validateOptions(provider: SessionProvider, options: Record<string, unknown>): Record<string, unknown> {
  if (!provider.options) {
    if (Object.keys(options).length > 0) throw badRequest(`provider "${provider.id}" takes no options, got: ${Object.keys(options).join(', ')}`);
    return options;
  }
  const withDefaults = Value.Default(provider.options, structuredClone(options)) as Record<string, unknown>;
  const first = Value.Errors(provider.options, withDefaults).First();
  if (first) throw badRequest(`option ${first.path.slice(1).replaceAll('/', '.') || '(options)'}: ${first.message}`);
  return withDefaults;
}
