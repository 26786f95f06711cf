import path from 'node:path';
import { auditLogRef } from '@codepiper/audit-contract';
import { definePlugin, notFound, type RequestOrigin, describeOrigin } from '@codepiper/sdk';
import { secretEndpoints, secretStoreRef } from '@codepiper/secrets-contract';
import { sessionSecret } from '@codepiper/sessions-contract';
import { SecretCipher } from './cipher.js';
import { EncryptedSecretStore } from './store.js';

export { SecretCipher } from './cipher.js';


export default definePlugin({
  name: 'secrets',
  api: '^1.0.0',
  description: 'Secrets encrypted at rest (AES-256-GCM, key in a 0600 file): named user secrets for sessions, and other plugins’ keys',
  provides: [secretStoreRef],
  uses: [auditLogRef],
  register(ctx) {
    let secrets: EncryptedSecretStore | undefined;
    const running = (): EncryptedSecretStore => {
      if (!secrets) throw new Error('the secrets plugin has not started');
      return secrets;
    };

    ctx.migrations([
      {
        version: 1,
        name: 'encrypted secrets',
        up: `CREATE TABLE secrets (
               name TEXT PRIMARY KEY,
               nonce BLOB NOT NULL,
               ciphertext BLOB NOT NULL,
               tag BLOB NOT NULL,
               created_at TEXT NOT NULL,
               updated_at TEXT NOT NULL
             )`,
      },
    ]);
    ctx.services.provide(secretStoreRef, running);
    // A session's `--secret NAME` reaches this store through the sessions plugin's hook, so neither plugin needs the other.
    ctx.hooks.tap(sessionSecret, async ({ name }) => {
      const value = await running().get(name);
      return value === undefined ? undefined : { value };
    });

    const audit = (action: string, reason: string, origin: RequestOrigin, name: string): Promise<void> =>
      ctx.services.get(auditLogRef).record({ action, outcome: 'allow', reason, actor: describeOrigin(origin), details: { name } }, 'secrets');

    ctx.api.handle(secretEndpoints.list, async () => ({ secrets: await running().list() }));
    ctx.api.handle(secretEndpoints.set, async ({ params, body, origin }) => {
      const created = !(await running().has(params.name));
      await running().set(params.name, body.value);
      await audit('secrets.set', `secret ${params.name} ${created ? 'created' : 'replaced'}`, origin, params.name);
      return { name: params.name, created };
    });
    ctx.api.handle(secretEndpoints.remove, async ({ params, origin }) => {
      if (!(await running().delete(params.name))) throw notFound(`secret ${params.name}`);
      await audit('secrets.remove', `secret ${params.name} deleted`, origin, params.name);
      return { ok: true as const };
    });

    return {
      start() {
        secrets = new EncryptedSecretStore(ctx.store, SecretCipher.open(path.join(ctx.paths.pluginData('secrets'), 'secret.key')));
      },
    };
  },
});
