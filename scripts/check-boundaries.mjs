#!/usr/bin/env node
// Plugins are written against the plugin API and the feature contracts only: a
// plugin may import node built-ins, @codepiper/sdk, the contract packages that
// plugins publish (plugins/<name>/contract) and it lists, npm packages it lists
// itself, and its own files; never the kernel (core/), another plugin's code,
// or a path outside its own package. Its tests may also start the in-process
// test kernel (@codepiper/core/test-kernel). A contract may import only the
// plugin API and other contracts, and its version is the one its service refs
// carry (`export const X_CONTRACT = '1.2.0'`).
// Usage: node scripts/check-boundaries.mjs [WORKSPACE]  (this repository by default)
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { contractPackages, filesUnder, packagesUnder, root as repoRoot } from './workspace.mjs';

const root = path.resolve(process.argv[2] ?? repoRoot);
const readManifest = (dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
const contractDirs = contractPackages(root);
const contracts = new Set(contractDirs.map((dir) => readManifest(dir).name));
const pluginRoots = [...packagesUnder('plugins', root), ...packagesUnder('examples', root)];
const importPattern = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const TEST_KERNEL = '@codepiper/core/test-kernel';
const isTest = (file) => /\.test\.(ts|tsx|mts|js|mjs)$/.test(file);
const isSource = (name) => /\.(ts|tsx|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts');
const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

const violations = [];
/** Checks each import of the package at `pkgDir`; `contract` when it is a feature contract (which never starts the test kernel). */
function checkPackage(pkgDir, { contract }) {
  const pkg = readManifest(pkgDir);
  const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies }));
  const srcDir = path.join(pkgDir, 'src');
  if (!statSync(srcDir, { throwIfNoEntry: false })) return;
  const allowed = contract ? 'contracts may use only @codepiper/sdk and other contracts' : 'plugins may use only @codepiper/sdk and the contract packages';
  for (const file of filesUnder(srcDir, isSource)) {
    for (const match of readFileSync(file, 'utf8').matchAll(importPattern)) {
      const spec = match[1] ?? match[2] ?? match[3];
      const where = `${path.relative(root, file)}: imports "${spec}"`;
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (!target.startsWith(pkgDir + path.sep)) violations.push(`${where}, outside its package`);
        continue;
      }
      if (spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = packageName(spec);
      if (name === '@codepiper/sdk') continue;
      if (!contract && spec === TEST_KERNEL && isTest(file) && declared.has('@codepiper/core')) continue;
      if (name.startsWith('@codepiper/') && !contracts.has(name)) violations.push(`${where}; ${allowed}`);
      else if (!declared.has(name)) violations.push(`${where}, which its package.json does not list`);
    }
  }
}

for (const dir of pluginRoots) checkPackage(dir, { contract: false });
for (const dir of contractDirs) {
  checkPackage(dir, { contract: true });
  const { name, version } = readManifest(dir);
  for (const file of filesUnder(path.join(dir, 'src'), isSource)) {
    for (const [, constant, carried] of readFileSync(file, 'utf8').matchAll(/export const (\w+_CONTRACT) = '([^']+)'/g)) {
      if (carried !== version) violations.push(`${path.relative(root, file)}: ${constant} is ${carried}, but ${name} is version ${version}; they move together`);
    }
  }
}

// The plugin API's package moves with the version the kernel checks plugins' ranges against.
const sdkDir = path.join(root, 'sdk');
if (statSync(path.join(sdkDir, 'package.json'), { throwIfNoEntry: false })) {
  const apiVersion = readFileSync(path.join(sdkDir, 'src', 'version.ts'), 'utf8').match(/PLUGIN_API_VERSION = '([^']+)'/)?.[1];
  const { version } = readManifest(sdkDir);
  if (apiVersion !== version) violations.push(`sdk/src/version.ts: PLUGIN_API_VERSION is ${apiVersion}, but @codepiper/sdk is version ${version}; they move together`);
}

if (violations.length > 0) {
  console.error(`plugin boundary violations (${violations.length}):`);
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
console.log(`plugin boundaries hold (${pluginRoots.length} packages and ${contractDirs.length} contracts checked)`);
