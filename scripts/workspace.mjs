// The workspace's packages, as the scripts see them.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const isPackage = (dir) => statSync(path.join(dir, 'package.json'), { throwIfNoEntry: false })?.isFile() ?? false;

/** Absolute directories of the packages under `parent` (e.g. `plugins`) of the workspace at `base`. */
export function packagesUnder(parent, base = root) {
  const dir = path.join(base, parent);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(dir, entry.name))
    .filter(isPackage)
    .sort();
}

/** Absolute directories of the feature contracts the plugins of the workspace at `base` publish (`plugins/<name>/contract`). */
export function contractPackages(base = root) {
  return packagesUnder('plugins', base)
    .map((plugin) => path.join(plugin, 'contract'))
    .filter(isPackage);
}

/** Every package of the workspace. */
export function allPackages() {
  return [...['sdk', 'core', 'cli', 'web', 'tests', 'bench'].map((d) => path.join(root, d)).filter(isPackage), ...packagesUnder('plugins'), ...contractPackages(), ...packagesUnder('examples')];
}

/** Every file below `dir` whose name passes `accept`, skipping node_modules (and dist unless asked). */
export function* filesUnder(dir, accept, { includeDist = false } = {}) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && (includeDist || entry.name !== 'dist')) yield* filesUnder(full, accept, { includeDist });
    } else if (accept(entry.name)) yield full;
  }
}
