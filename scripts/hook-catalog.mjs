#!/usr/bin/env node
// Writes sdk/HOOKS.md from the hook and service refs @codepiper/sdk exports
// (build first: pnpm exec tsc -b). sdk's catalog test fails when it is stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { root } from './workspace.mjs';

const sdk = await import(path.join(root, 'sdk', 'dist', 'index.js'));
const { renderCatalog } = await import(path.join(root, 'sdk', 'dist', 'catalog.js'));
const file = path.join(root, 'sdk', 'HOOKS.md');
writeFileSync(file, renderCatalog(sdk));
console.log(`wrote ${path.relative(root, file)}`);
