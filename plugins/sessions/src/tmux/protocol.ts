/**
 * Low-level pieces of the tmux protocols: control-mode line splitting and
 * `%output` decoding (on Buffers, so UTF-8 split across lines stays intact),
 * hex encoding for `send-keys -H`, and the escaping rules for arguments that
 * reach tmux's argv parser.
 */

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/** Splits a byte stream into lines (without the `\n`), calling `onLine` synchronously, in order. */
export class LineSplitter {
  private parts: Buffer[] = [];

  constructor(private readonly onLine: (line: Buffer) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      let line: Buffer;
      if (this.parts.length > 0) {
        this.parts.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.parts);
        this.parts = [];
      } else {
        line = chunk.subarray(start, nl);
      }
      start = nl + 1;
      this.onLine(line);
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
  }
}

/**
 * Decodes the data of a `%output` line: tmux writes bytes below 0x20 and the
 * backslash as `\ooo` (three octal digits); every other byte is raw. Lines
 * without a backslash (most text) are returned as a view without copying.
 */
export function decodeOctal(data: Buffer): Buffer {
  let i = data.indexOf(BACKSLASH);
  if (i === -1) return data;
  const out = Buffer.allocUnsafe(data.length);
  data.copy(out, 0, 0, i);
  let o = i;
  const n = data.length;
  while (i < n) {
    const b = data[i]!;
    if (b === BACKSLASH && i + 3 < n && isOctal(data[i + 1]!) && isOctal(data[i + 2]!) && isOctal(data[i + 3]!)) {
      out[o++] = ((data[i + 1]! - 0x30) << 6) | ((data[i + 2]! - 0x30) << 3) | (data[i + 3]! - 0x30);
      i += 4;
    } else {
      out[o++] = b;
      i++;
    }
  }
  return out.subarray(0, o);
}

const isOctal = (b: number): boolean => b >= 0x30 && b <= 0x37;

const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** `bytes` as space-separated two-digit hex numbers, the arguments of `send-keys -H`. */
export function hexArgs(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const parts = new Array<string>(end - start);
  for (let i = start; i < end; i++) parts[i - start] = HEX[bytes[i]!]!;
  return parts.join(' ');
}

/**
 * Quotes any text as one word of a command line on the control channel, so
 * that it reaches tmux unchanged: single quotes (inside which tmux expands
 * nothing), with `'`, newline and carriage return spelt `"'"`, `"\n"` and
 * `"\r"` next to them. What tmux makes of the word (a format, a shell
 * command) is up to the command it is given to.
 */
export function quoteWord(word: string): string {
  if (word.includes('\0')) throw new Error('a tmux argument cannot contain a NUL byte');
  const spelt: Readonly<Record<string, string>> = { "'": `"'"`, '\n': '"\\n"', '\r': '"\\r"' };
  return word.split(/(['\n\r])/).map((part) => spelt[part] ?? (part === '' ? '' : `'${part}'`)).join('') || "''";
}

/** Escapes `#` for an argument tmux expands as a format (`new-session -c`): `#{...}` and `#(...)` stay literal. */
export const escapeFormat = (text: string): string => text.replaceAll('#', '##');

/**
 * Single-quotes a word for a command line on the control channel. Only ever
 * used for strings this module builds or has validated (key names, formats,
 * session names); it refuses anything that could leave the quotes.
 */
export function quote(word: string): string {
  if (/['\n\r\0]/.test(word)) throw new Error(`refusing to quote ${JSON.stringify(word)} for tmux`);
  return `'${word}'`;
}

export interface TmuxVersion {
  /** As printed by `tmux -V`, e.g. `tmux 3.3a`. */
  text: string;
  major: number;
  minor: number;
}

/** Parses `tmux -V` output: `tmux 3.3a`, `tmux next-3.5`, `tmux openbsd-7.4`, `tmux master`. */
export function parseTmuxVersion(text: string): TmuxVersion {
  const trimmed = text.trim();
  const match = /(\d+)\.(\d+)/.exec(trimmed);
  if (match) return { text: trimmed, major: Number(match[1]), minor: Number(match[2]) };
  // Builds from git say `master`: newer than any release.
  if (/\bmaster\b/.test(trimmed)) return { text: trimmed, major: 99, minor: 0 };
  throw new Error(`cannot read the tmux version from ${JSON.stringify(trimmed)}`);
}
