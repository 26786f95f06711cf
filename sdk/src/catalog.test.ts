import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { renderCatalog } from './catalog.js';
import { createServiceRef } from './services.js';
import { defineBailHook } from './hooks.js';
import * as sdk from './index.js';

const committed = path.resolve(import.meta.dirname, '..', 'HOOKS.md');

describe('the hook catalog', () => {
  it('is what the code says: regenerate sdk/HOOKS.md with `node scripts/hook-catalog.mjs` after changing a hook or a service', () => {
    assert.equal(fs.readFileSync(committed, 'utf8'), renderCatalog(sdk));
  });

  it('lists every hook and service ref it is given, with the name it is imported by', () => {
    const text = renderCatalog({
      mayDeploy: defineBailHook<{ env: string }, boolean>({ name: 'deploy.allowed', owner: 'deploy', payload: 'DeployQuestion → boolean', description: 'Before a deploy | any' }),
      deployQueue: createServiceRef<unknown>('deploy.queue', 'Deploys waiting', '2.1.0'),
      notARef: { name: 'x' },
    });
    assert.match(text, /^\| `deploy\.allowed` \| bail \| `DeployQuestion → boolean` \| Before a deploy \\\| any \| deploy \| `mayDeploy` \|$/m);
    assert.match(text, /^\| `deploy\.queue` \| Deploys waiting \| 2\.1\.0 \| `deployQueue` \|$/m);
    assert.doesNotMatch(text, /notARef/);
  });
});
