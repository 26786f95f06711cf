import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './harness.js';

describe('the hook catalog (sdk/HOOKS.md)', () => {
  it('is what the plugin API and the feature contracts export: regenerate it with `node scripts/hook-catalog.mjs` after changing a hook or a service', () => {
    const result = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'hook-catalog.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });
});
