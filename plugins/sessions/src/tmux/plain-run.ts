const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;

/** What a chunk of output is, if it holds nothing but printable ASCII, tabs and line ends. */
export interface PlainText {
  /** Its line feeds. */
  lines: number;
  /** It holds a byte that ends any escape sequence left open before it (a final byte, 0x40-0x7e). */
  closesSequences: boolean;
}

/** Reads `data` as plain text; undefined when it holds any other byte (an escape, a control, UTF-8). */
export function plainText(data: Uint8Array): PlainText | undefined {
  let lines = 0;
  let closesSequences = false;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    if (byte >= 0x20 && byte <= 0x7e) {
      if (byte >= 0x40) closesSequences = true;
    } else if (byte === LF) lines++;
    else if (byte !== CR && byte !== TAB) return undefined;
  }
  return { lines, closesSequences };
}

function countLines(data: Uint8Array): number {
  let lines = 0;
  for (let i = data.indexOf(LF); i !== -1; i = data.indexOf(LF, i + 1)) lines++;
  return lines;
}

/**
 * Plain text written to a terminal emulator that is not yet parsed, kept so
 * that most of a long run of it never has to be: printing 50 MB of lines,
 * only the last screen and scrollback of them can still be seen.
 *
 * The run starts with the terminal in a state where plain text only prints
 * and moves the cursor right and down (no scroll region; the parser not
 * inside a CSI or ESC sequence; see PaneScreen). In that state the text
 * before a carriage return can be left out when at least `rows` line feeds
 * come before it and `rows + scrollback` after it:
 * - at the carriage return the cursor is in the first column and, after
 *   `rows` line feeds, on the bottom row, whatever was printed: `rows` bare
 *   line feeds put an emulator that skipped the text in the same place;
 * - from there on every line feed scrolls, and the lines that end up on the
 *   screen and in the scrollback are all printed after the cut, on blank
 *   lines, the same in both.
 * Pen, modes and tab stops cannot change inside plain text, and a parser
 * inside a string (OSC, DCS) swallows it all the same either way.
 */
export class PlainRun {
  /** Each chunk with its line feeds. */
  private chunks: { data: Uint8Array; lines: number }[] = [];
  private lines = 0;
  private length = 0;
  /** Text was left out: the `rows` line feeds that stand for it come first. */
  private skipped = false;

  /** The bytes kept. */
  get bytes(): number {
    return this.length;
  }

  add(data: Uint8Array, lines: number, size: { rows: number; scrollback: number }): void {
    this.chunks.push({ data, lines });
    this.lines += lines;
    this.length += data.length;
    // Cut once two cuts' worth has gathered, so that each cut leaves out at least as much as it keeps.
    if (this.lines > 2 * (2 * size.rows + size.scrollback)) this.cut(size);
  }

  /** What the emulator has to parse to show what the whole run would have; empties the run. */
  take(rows: number): Uint8Array[] {
    const chunks = this.chunks.map((chunk) => chunk.data);
    if (this.skipped) chunks.unshift(Buffer.alloc(rows, LF));
    this.chunks = [];
    this.lines = 0;
    this.length = 0;
    this.skipped = false;
    return chunks;
  }

  /** Leaves out the text before the last carriage return that has `rows + scrollback` line feeds after it. */
  private cut({ rows, scrollback }: { rows: number; scrollback: number }): void {
    /** Line feeds in the chunks after the one looked at. */
    let later = 0;
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const { data, lines } = this.chunks[i]!;
      const cr = later > rows + scrollback ? data.lastIndexOf(CR) : -1;
      if (cr !== -1) {
        const tail = data.subarray(cr);
        const kept = later + countLines(tail);
        if (!this.skipped && this.lines - kept < rows) return;
        this.chunks = [{ data: tail, lines: kept - later }, ...this.chunks.slice(i + 1)];
        this.lines = kept;
        this.length = this.chunks.reduce((sum, chunk) => sum + chunk.data.length, 0);
        this.skipped = true;
        return;
      }
      later += lines;
    }
  }
}
