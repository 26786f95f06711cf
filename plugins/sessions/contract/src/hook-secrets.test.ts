import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { notFound } from '@codepiper/sdk';
import { HookSecretCheck, hookSecretHash, newHookSecret } from './hook-secrets.js';
import type { SessionDirectory, SessionRecord } from './sessions.js';

const ID = '3f6c2a9e-58b1-4d0c-9a7e-2b4f1c8d6e01';

/** A directory holding one session, counting its look-ups; `resolve` takes a prefix, as the real one does. */
function directoryOf(record: Pick<SessionRecord, 'id' | 'provider' | 'metadata'>) {
  let lookUps = 0;
  const directory = {
    resolve: (idOrPrefix: string) => {
      lookUps++;
      return record.id.startsWith(idOrPrefix) ? Promise.resolve(record as SessionRecord) : Promise.reject(notFound(`session ${idOrPrefix}`));
    },
  } as Partial<SessionDirectory> as SessionDirectory;
  return { directory: () => directory, lookUps: () => lookUps };
}

const refused = /wrong or missing hook secret/;

describe('HookSecretCheck', () => {
  test('the session’s secret passes, its hash looked up once; anything else is refused', async () => {
    const secret = newHookSecret();
    const { directory, lookUps } = directoryOf({ id: ID, provider: 'codex', metadata: { hookKeyHash: hookSecretHash(secret) } });
    const secrets = new HookSecretCheck('codex', directory);
    await secrets.check(ID, secret);
    await secrets.check(ID, secret);
    assert.equal(lookUps(), 1);
    await assert.rejects(secrets.check(ID, newHookSecret()), refused);
    await assert.rejects(secrets.check(ID, undefined), refused);
    await assert.rejects(secrets.check(ID, ''), refused);
    await assert.rejects(secrets.check(ID, hookSecretHash(secret)), refused, 'the hash is no secret');
  });

  test('by the whole id of its own provider’s session only', async () => {
    const secret = newHookSecret();
    const metadata = { hookKeyHash: hookSecretHash(secret) };
    await assert.rejects(new HookSecretCheck('codex', directoryOf({ id: ID, provider: 'codex', metadata }).directory).check(ID.slice(0, 8), secret), refused, 'a prefix');
    await assert.rejects(new HookSecretCheck('codex', directoryOf({ id: ID, provider: 'claude-code', metadata }).directory).check(ID, secret), refused, 'another provider');
    await assert.rejects(new HookSecretCheck('codex', directoryOf({ id: ID, provider: 'codex', metadata: {} }).directory).check(ID, secret), refused, 'no hash');
    await assert.rejects(new HookSecretCheck('codex', directoryOf({ id: ID, provider: 'codex', metadata }).directory).check('nothing-like-it', secret), refused, 'no session');
  });

  test('a launch’s new secret replaces the one kept; a forgotten session is looked up again', async () => {
    const first = newHookSecret();
    const { directory, lookUps } = directoryOf({ id: ID, provider: 'codex', metadata: { hookKeyHash: hookSecretHash(first) } });
    const secrets = new HookSecretCheck('codex', directory);
    await secrets.check(ID, first);
    const resumed = newHookSecret();
    secrets.launched(ID, hookSecretHash(resumed));
    await secrets.check(ID, resumed);
    await assert.rejects(secrets.check(ID, first), refused, 'the secret before the resume');
    secrets.forget(ID);
    await secrets.check(ID, first);
    assert.equal(lookUps(), 2);
  });
});
