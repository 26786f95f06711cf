#!/usr/bin/env node
// Writes sdk/HOOKS.md from the hook and service refs that @codepiper/sdk and
// the feature contracts (plugins/<name>/contract) export (build first:
// pnpm exec tsc -b). With --check, writes nothing and fails when the
// committed file differs from what the code says.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { contractPackages, root } from './workspace.mjs';

const packages = {};
for (const dir of [path.join(root, 'sdk'), ...contractPackages()]) {
  const { name } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  packages[name] = await import(path.join(dir, 'dist', 'index.js'));
}
const { renderCatalog } = await import(path.join(root, 'sdk', 'dist', 'catalog.js'));
const file = path.join(root, 'sdk', 'HOOKS.md');
const catalog = renderCatalog(packages);
if (process.argv.includes('--check')) {
  if (readFileSync(file, 'utf8') !== catalog) {
    console.error(`${path.relative(root, file)} is stale: regenerate it with node scripts/hook-catalog.mjs`);
    process.exit(1);
  }
  console.log(`${path.relative(root, file)} is what the code says`);
} else {
  writeFileSync(file, catalog);
  console.log(`wrote ${path.relative(root, file)}`);
}
