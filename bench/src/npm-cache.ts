import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const CACHE = path.resolve(import.meta.dirname, '..', '.cache');

/**
 * A directory under bench/.cache holding `packages` (npm specs), installed
 * from npm the first time (then `afterInstall` runs); undefined, with the reason on stderr, if npm
 * cannot install them (the benchmark then measures ours alone).
 */
export function installedFromNpm(name: string, packages: string[], check: string, afterInstall?: (dir: string) => void): string | undefined {
  const dir = path.join(CACHE, name);
  if (existsSync(path.join(dir, check))) return dir;
  mkdirSync(dir, { recursive: true });
  try {
    console.error(`installing ${packages.join(' ')} from npm into ${dir}...`);
    // A package of its own, so that npm does not take the surrounding repository for the project.
    writeFileSync(path.join(dir, 'package.json'), '{"private": true}\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', ...packages], { cwd: dir, stdio: 'ignore', timeout: 600_000 });
    afterInstall?.(dir);
    return dir;
  } catch (error) {
    console.error(`${packages.join(' ')} could not be installed (${(error as Error).message}); measuring ours alone`);
    return undefined;
  }
}
