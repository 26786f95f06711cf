import { badRequest, type Store } from '@codepiper/sdk';
import { MAX_SECRET_BYTES, PLUGIN_SECRET_PATTERN, SECRET_NAME_PATTERN, type SecretInfo, type SecretStore } from '@codepiper/secrets-contract';
import type { SecretCipher } from './cipher.js';

interface SecretRow {
  name: string;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  created_at: string;
  updated_at: string;
}

const USER_NAME = new RegExp(SECRET_NAME_PATTERN);
const PLUGIN_NAME = new RegExp(PLUGIN_SECRET_PATTERN);

function checkName(name: string): void {
  if (!USER_NAME.test(name) && !PLUGIN_NAME.test(name)) {
    throw badRequest(`"${name.slice(0, 100)}" is not a secret name: use letters, digits and _ (like an environment variable)`);
  }
}

/** Secrets in SQLite, each sealed on its own; values are decrypted only when asked for by name. */
export class EncryptedSecretStore implements SecretStore {
  constructor(
    private readonly store: Store,
    private readonly cipher: SecretCipher,
  ) {}

  async get(name: string): Promise<string | undefined> {
    checkName(name);
    const row = await this.store.get<SecretRow>('SELECT * FROM secrets WHERE name = ?', [name]);
    return row && this.cipher.open(name, row);
  }

  async set(name: string, value: string): Promise<void> {
    checkName(name);
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw badRequest(`a secret holds at most ${MAX_SECRET_BYTES} bytes`);
    const { nonce, ciphertext, tag } = this.cipher.seal(name, value);
    const now = new Date().toISOString();
    await this.store.run(
      `INSERT INTO secrets (name, nonce, ciphertext, tag, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, tag = excluded.tag, updated_at = excluded.updated_at`,
      [name, nonce, ciphertext, tag, now, now],
    );
  }

  async delete(name: string): Promise<boolean> {
    checkName(name);
    return (await this.store.run('DELETE FROM secrets WHERE name = ?', [name])).changes > 0;
  }

  async has(name: string): Promise<boolean> {
    return (await this.store.get('SELECT 1 FROM secrets WHERE name = ?', [name])) !== undefined;
  }

  async list(): Promise<SecretInfo[]> {
    const rows = await this.store.all<Pick<SecretRow, 'name' | 'created_at' | 'updated_at'>>('SELECT name, created_at, updated_at FROM secrets ORDER BY name');
    return rows.filter((row) => USER_NAME.test(row.name)).map((row) => ({ name: row.name, createdAt: row.created_at, updatedAt: row.updated_at }));
  }
}
