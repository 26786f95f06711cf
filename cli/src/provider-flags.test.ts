import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProviderInfo } from '@codepiper/sessions-contract';
import { flagOf } from './field-flags.js';
import { providerFlags, providerOptionValues } from './provider-flags.js';

const capabilities = { resumable: false, switchesModel: false, keepsTranscript: false, readsImages: false };
const providers: ProviderInfo[] = [
  { id: 'shell', description: 'A shell', options: [], ...capabilities },
  {
    id: 'claude-code',
    description: 'Claude',
    options: [
      { key: 'model', type: 'string', description: 'The model' },
      { key: 'permissionMode', type: 'string', description: 'Its mode' },
      { key: 'trust', type: 'boolean', description: 'Trust the folder' },
    ],
    ...capabilities,
  },
  { id: 'codex', description: 'Codex', options: [{ key: 'model', type: 'string', description: 'The model Codex runs' }], ...capabilities },
  { id: 'budgeted', description: 'Counts', options: [{ key: 'maxTurns', type: 'number', description: 'Turns' }], ...capabilities },
];
const flags = providerFlags(providers);

describe('provider flags', () => {
  it('makes one flag per option key, kebab-cased, naming every provider that takes it', () => {
    assert.deepEqual(
      flags.map((f) => [flagOf(f.key), f.providers.join(',')]),
      [
        ['--model', 'claude-code,codex'],
        ['--permission-mode', 'claude-code'],
        ['--trust', 'claude-code'],
        ['--max-turns', 'budgeted'],
      ],
    );
  });

  it('types the values given as the provider declares them', () => {
    assert.deepEqual(providerOptionValues({ model: 'sonnet', permissionMode: 'plan', trust: true }, flags, 'claude-code'), { model: 'sonnet', permissionMode: 'plan', trust: true });
    assert.deepEqual(providerOptionValues({ maxTurns: '7' }, flags, 'budgeted'), { maxTurns: 7 });
    assert.deepEqual(providerOptionValues({ model: 5 }, flags, 'codex'), { model: '5' }, 'cac reads 5 as a number');
    assert.equal(providerOptionValues({}, flags, 'shell'), undefined);
  });

  it('refuses a flag of another provider, a value for a bare flag and a number that is not one', () => {
    assert.throws(() => providerOptionValues({ model: 'x' }, flags, 'shell'), { message: '--model is an option of claude-code, codex, not of provider shell' });
    assert.throws(() => providerOptionValues({ trust: 'yes' }, flags, 'claude-code'), { message: '--trust takes no value' });
    assert.throws(() => providerOptionValues({ maxTurns: 'many' }, flags, 'budgeted'), { message: '--max-turns needs a number, got "many"' });
    assert.throws(() => providerOptionValues({ model: ['a', 'b'] }, flags, 'codex'), { message: '--model may be given only once' });
  });
});
