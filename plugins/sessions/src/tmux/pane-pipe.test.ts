import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BULK_READ_BYTES, PanePipe } from './pane-pipe.js';
import { waitFor } from './testing.js';

/** A FIFO read by a PanePipe, and `data` written into it by a `cat` (as tmux's pipe-pane does). */
async function piped(t: { after(fn: () => unknown): void }, data: Buffer) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pane-pipe-'));
  const source = path.join(dir, 'source');
  writeFileSync(source, data);
  const pipe = await PanePipe.open(path.join(dir, 'fifo'));
  const writer = spawn('sh', ['-c', 'exec cat "$0" > "$1"', source, pipe.fifo]);
  t.after(async () => {
    writer.kill();
    await pipe.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { pipe, written: once(writer, 'exit') };
}

describe('a pane pipe', () => {
  it('delivers every byte of a stream printed in bulk, in order, then ends', async (t) => {
    const data = randomBytes(8 * 1024 * 1024);
    const { pipe } = await piped(t, data);
    const chunks: Buffer[] = [];
    pipe.read((chunk) => chunks.push(chunk));
    await pipe.ended;
    assert.ok(Buffer.concat(chunks).equals(data));
  });

  it('stays paused while its reader is behind, a pause for gathering a bulk stream notwithstanding', async (t) => {
    const data = randomBytes(4 * 1024 * 1024);
    const { pipe, written } = await piped(t, data);
    let received = 0;
    let atPause: number | undefined;
    pipe.read((chunk) => {
      received += chunk.length;
      // A bulk read starts the pause for gathering; the reader falls behind at that same moment.
      if (atPause === undefined && chunk.length >= BULK_READ_BYTES) {
        pipe.pause();
        atPause = received;
      }
    });
    await waitFor('a bulk read', () => atPause !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(received, atPause, 'nothing is read while paused');
    pipe.resume();
    await Promise.all([pipe.ended, written]);
    assert.equal(received, data.length);
  });
});
