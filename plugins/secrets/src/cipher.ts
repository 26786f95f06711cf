import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;

export interface Sealed {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * AES-256-GCM with a key kept in a file of its own (mode 0600). Each value is
 * bound to its name (as additional data), so a ciphertext moved to another
 * name does not decrypt.
 */
export class SecretCipher {
  private constructor(private readonly key: Buffer) {}

  /** Reads the key file, or creates it with a new random key. */
  static open(file: string): SecretCipher {
    try {
      fs.writeFileSync(file, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stat = fs.statSync(file);
    if ((stat.mode & 0o077) !== 0) throw new Error(`the secret key ${file} is readable by others (mode ${(stat.mode & 0o777).toString(8)}): chmod 600 it`);
    const key = fs.readFileSync(file);
    if (key.length !== KEY_BYTES) throw new Error(`the secret key ${file} is ${key.length} bytes long, not ${KEY_BYTES}: it is damaged`);
    return new SecretCipher(key);
  }

  seal(name: string, value: string): Sealed {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(name));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return { nonce, ciphertext, tag: cipher.getAuthTag() };
  }

  open(name: string, sealed: Sealed): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.nonce);
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(sealed.tag);
    try {
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new Error(`secret "${name}" does not decrypt with this key: the key file or the database was changed`, { cause: error });
    }
  }
}
