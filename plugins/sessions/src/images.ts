import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CodePiperError } from '@codepiper/sdk';
import { imageTypeOf, MAX_IMAGE_BYTES, type ImageType } from '@codepiper/sessions-contract';

const EXTENSIONS: Record<ImageType, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Images kept for sessions' agents to read (`send --image`, a picture pasted
 * into the dashboard's prompt): one private directory per session, removed
 * with the session.
 */
export class SessionImages {
  constructor(private readonly dir: string) {}

  /** Checks that `base64` is an image of `mediaType` and keeps it; returns its path. */
  async keep(sessionId: string, mediaType: ImageType, base64: string): Promise<string> {
    const bytes = BASE64.test(base64) ? Buffer.from(base64, 'base64') : Buffer.alloc(0);
    if (bytes.length > MAX_IMAGE_BYTES) throw new CodePiperError('invalid_image', `the image is ${bytes.length} bytes; at most ${MAX_IMAGE_BYTES} are taken`);
    const actual = imageTypeOf(bytes);
    if (actual !== mediaType) throw new CodePiperError('invalid_image', `the data is not a ${mediaType} image${actual ? ` (it is ${actual})` : ''}`);
    const sessionDir = path.join(this.dir, sessionId);
    await mkdir(sessionDir, { recursive: true, mode: 0o700 });
    const file = path.join(sessionDir, `${randomUUID()}.${EXTENSIONS[mediaType]}`);
    await writeFile(file, bytes, { mode: 0o600, flag: 'wx' });
    return file;
  }

  async forget(sessionId: string): Promise<void> {
    await rm(path.join(this.dir, sessionId), { recursive: true, force: true });
  }
}
