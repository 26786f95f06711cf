import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderCatalog } from './catalog.js';
import { createServiceRef } from './services.js';
import { defineBailHook } from './hooks.js';

describe('the hook catalog', () => {
  it('lists every hook and service ref it is given, with the name and package it is imported from', () => {
    const text = renderCatalog({
      '@acme/deploy-contract': {
        mayDeploy: defineBailHook<{ env: string }, boolean>({ name: 'deploy.allowed', owner: 'deploy', payload: 'DeployQuestion → boolean', description: 'Before a deploy | any' }),
        deployQueue: createServiceRef<unknown>('deploy.queue', 'Deploys waiting', '2.1.0'),
        notARef: { name: 'x' },
      },
    });
    assert.match(text, /^\| `deploy\.allowed` \| bail \| `DeployQuestion → boolean` \| Before a deploy \\\| any \| deploy \| `mayDeploy` from `@acme\/deploy-contract` \|$/m);
    assert.match(text, /^\| `deploy\.queue` \| Deploys waiting \| 2\.1\.0 \| `deployQueue` from `@acme\/deploy-contract` \|$/m);
    assert.doesNotMatch(text, /notARef/);
  });
});
