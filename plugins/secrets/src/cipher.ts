import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

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

  /**
   * Reads the key file, or creates it with a new random key. The file must be
   * a regular file (not a symbolic link), ours, and closed to group and others.
   */
  static open(file: string): SecretCipher {
    createKeyFile(file);
    const fd = openKeyFile(file);
    try {
      checkKeyFile(file, fs.fstatSync(fd));
      const key = fs.readFileSync(fd);
      if (key.length !== KEY_BYTES) throw new Error(`the secret key ${file} is ${key.length} bytes long, not ${KEY_BYTES}: it is damaged`);
      return new SecretCipher(key);
    } finally {
      fs.closeSync(fd);
    }
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

function createKeyFile(file: string): void {
  try {
    // O_EXCL: fails on anything already there, a symbolic link included.
    fs.writeFileSync(file, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Opens the key file without following a symbolic link (or blocking on a FIFO), so what is checked is what is read. */
function openKeyFile(file: string): number {
  const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  try {
    return fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOOP') throw error;
    const target = path.resolve(path.dirname(file), fs.readlinkSync(file));
    throw new Error(
      `the secret key ${file} is a symbolic link (to ${target}): it must be a regular file, so that nobody can point it at another key. If ${target} is your key, move it in its place: mv ${target} ${file}`,
      { cause: error },
    );
  }
}

function checkKeyFile(file: string, stat: fs.Stats): void {
  if (!stat.isFile()) throw new Error(`the secret key ${file} is not a regular file: move it away`);
  const uid = process.geteuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new Error(`the secret key ${file} belongs to uid ${stat.uid}, not to the daemon's user (uid ${uid}), so someone else could have replaced it: if it is your key, chown ${uid} ${file}`);
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new Error(`the secret key ${file} is open to group or others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 ${file}`);
  }
}
