import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contributionEndpoints, defineEndpoint, type ApiRegistrar } from '@codepiper/sdk';
import * as Type from '@sinclair/typebox';
import { Contributions } from './contributions.js';

const get = (url: string) =>
  defineEndpoint({ method: 'GET', url, summary: '', tags: [], query: Type.Object({ running: Type.Optional(Type.Boolean({ description: 'Only running' })) }), response: Type.Object({}) });
const post = defineEndpoint({ method: 'POST', url: '/things', summary: '', tags: [], response: Type.Object({}) });

/** What the contributions endpoint answers, without an API server. */
async function served(contributions: Contributions) {
  let handler: (() => Promise<unknown>) | undefined;
  const api = { handle: (endpoint: unknown, fn: () => Promise<unknown>) => endpoint === contributionEndpoints.list && (handler = fn) } as unknown as ApiRegistrar;
  contributions.serve(api);
  return handler!();
}

describe('contributions', () => {
  it('describes a command by its endpoint: path parameters as arguments, query fields as flags', async () => {
    const contributions = new Contributions();
    contributions.forPlugin('parrot').command({ name: 'parrot', description: 'One parrot', endpoint: get('/parrots/:id/:part'), examples: ['codepiper parrot 3f2a'] });
    contributions.forPlugin('parrot').page({ id: 'parrots', title: 'Parrots', endpoint: get('/parrots') });
    assert.deepEqual(await served(contributions), {
      commands: [
        {
          plugin: 'parrot',
          name: 'parrot',
          description: 'One parrot',
          url: '/parrots/:id/:part',
          arguments: ['id', 'part'],
          flags: [{ key: 'running', type: 'boolean', description: 'Only running' }],
          examples: ['codepiper parrot 3f2a'],
        },
      ],
      pages: [{ plugin: 'parrot', id: 'parrots', title: 'Parrots', url: '/parrots' }],
    });
  });

  it('refuses what a client could not offer, naming it', () => {
    const contributions = new Contributions();
    const parrot = contributions.forPlugin('parrot');
    parrot.command({ name: 'parrots', description: '', endpoint: get('/parrots') });
    assert.throws(() => contributions.forPlugin('other').command({ name: 'parrots', description: '', endpoint: get('/x') }), { message: 'command "parrots" is already added by plugin "parrot"' });
    assert.throws(() => parrot.command({ name: 'Two Words', description: '', endpoint: get('/x') }), /must be one lowercase word/);
    assert.throws(() => parrot.command({ name: 'make', description: '', endpoint: post }), { message: 'command "make" must be answered by a GET endpoint of the API, not POST /things' });
    assert.throws(() => parrot.command({ name: 'away', description: '', endpoint: get('//evil.example/x') }), /must be answered by a GET endpoint of the API/);
    assert.throws(() => parrot.page({ id: 'away', title: 'Away', endpoint: get('https://evil.example/x') }), /must show a GET endpoint without path parameters/);
    assert.throws(() => parrot.page({ id: 'one', title: 'One', endpoint: get('/parrots/:id') }), /must show a GET endpoint without path parameters/);
  });
});
