#!/usr/bin/env node
// Plugins are written against the SDK only: a plugin may import node built-ins,
// @codepiper/sdk, npm packages it lists itself, and its own files; never the
// kernel (core/), another plugin, or a path outside its own package. Its tests
// may also start the in-process test kernel (@codepiper/core/test-kernel).
// Usage: node scripts/check-boundaries.mjs [WORKSPACE]  (this repository by default)
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { filesUnder, packagesUnder, root as repoRoot } from './workspace.mjs';

const root = path.resolve(process.argv[2] ?? repoRoot);
const pluginRoots = [...packagesUnder('plugins', root), ...packagesUnder('examples', root)];
const importPattern = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const TEST_KERNEL = '@codepiper/core/test-kernel';
const isTest = (file) => /\.test\.(ts|tsx|mts|js|mjs)$/.test(file);
const isSource = (name) => /\.(ts|tsx|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts');

const violations = [];
for (const pkgDir of pluginRoots) {
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies }));
  const srcDir = path.join(pkgDir, 'src');
  if (!statSync(srcDir, { throwIfNoEntry: false })) continue;
  for (const file of filesUnder(srcDir, isSource)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1] ?? match[2] ?? match[3];
      const where = `${path.relative(root, file)}: imports "${spec}"`;
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (!target.startsWith(pkgDir + path.sep)) violations.push(`${where}, outside its package`);
        continue;
      }
      if (spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (name === '@codepiper/sdk') continue;
      if (spec === TEST_KERNEL && isTest(file) && declared.has('@codepiper/core')) continue;
      if (name.startsWith('@codepiper/')) violations.push(`${where}; plugins may use only @codepiper/sdk`);
      else if (!declared.has(name)) violations.push(`${where}, which its package.json does not list`);
    }
  }
}

if (violations.length > 0) {
  console.error(`plugin boundary violations (${violations.length}):`);
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
console.log(`plugin boundaries hold (${pluginRoots.length} packages checked)`);
