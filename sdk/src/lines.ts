import { open } from 'node:fs/promises';

const CHUNK = 1024 * 1024;

/**
 * Reads `file` from byte `start` in chunks, handing over the complete lines of
 * each (joined by newlines, without the last one) and the offset just past
 * them. A last line without its newline is left for a later read.
 */
export async function readLines(file: string, start: number, onLines: (text: string, end: number) => Promise<void>): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let position = start;
    let carry: Buffer | undefined;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      const data = carry ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
      const newline = data.lastIndexOf(0x0a);
      // The buffer is reused by the next read: what is carried over is copied.
      carry = newline + 1 < data.length ? Buffer.from(data.subarray(newline + 1)) : undefined;
      if (newline >= 0) await onLines(data.toString('utf8', 0, newline), position - (carry?.length ?? 0));
    }
  } finally {
    await handle.close();
  }
}

/** Calls `each` for every non-empty line of `text`. */
export function eachLine(text: string, each: (line: string) => void): void {
  let from = 0;
  while (from <= text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    if (to > from) each(text.slice(from, to));
    from = to + 1;
  }
}
