const ESC = 0x1b;
const BEL = 0x07;

/** A sequence cut by the end of a chunk is held for the next one, up to this long; a longer one (an OSC 52 copy) passes as it comes. */
const MAX_HELD_BYTES = 4096;

/**
 * Takes out of a session's output what its programs ask of their terminal:
 * the session's tmux answered them already, and the terminal this output is
 * shown on would answer again, into the session as typed text (`0;276;0c` at
 * a shell prompt), or into the user's shell after `tail -f`.
 * Queries: device attributes (`CSI c`, `CSI > c`, `CSI = c`), status and
 * cursor position (`CSI n`), modes (`CSI $ p`), version (`CSI > q`), keyboard
 * flags (`CSI ? u`), settings and capabilities (`DCS $ q`, `DCS + q`), colours
 * (`OSC 4/10/11/12 ... ?`). Feed it the chunks in order.
 */
export class TerminalQueryFilter {
  private held: Buffer = Buffer.alloc(0);

  strip(chunk: Buffer): Buffer {
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const kept: Buffer[] = [];
    let from = 0;
    for (let at = data.indexOf(ESC); at !== -1; at = data.indexOf(ESC, at + 1)) {
      const end = sequenceEnd(data, at);
      if (end === undefined) {
        if (data.length - at <= MAX_HELD_BYTES) {
          this.held = Buffer.from(data.subarray(at));
          kept.push(data.subarray(from, at));
          return Buffer.concat(kept);
        }
        break;
      }
      if (isQuery(data.subarray(at, end))) {
        kept.push(data.subarray(from, at));
        from = end;
      }
      at = end - 1;
    }
    kept.push(data.subarray(from));
    return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
  }
}

/** Where the escape sequence starting at `at` ends (exclusive), or undefined when the data ends first. */
function sequenceEnd(data: Buffer, at: number): number | undefined {
  const kind = data[at + 1];
  if (kind === undefined) return undefined;
  if (kind === ESC) return at + 1;
  if (kind === 0x5b /* [ */) {
    for (let i = at + 2; i < data.length; i++) if (data[i]! >= 0x40 && data[i]! <= 0x7e) return i + 1;
    return undefined;
  }
  if (kind === 0x5d /* ] */ || kind === 0x50 /* P */) {
    for (let i = at + 2; i < data.length; i++) {
      if (data[i] === BEL && kind === 0x5d) return i + 1;
      if (data[i] !== ESC) continue;
      if (i + 1 === data.length) return undefined;
      return data[i + 1] === 0x5c /* \ */ ? i + 2 : i; // ST ends it; another sequence cuts it short
    }
    return undefined;
  }
  return at + 2;
}

/** What follows `ESC [` in a query. */
const CSI_QUERY = /^(?:[>=]?[\d;]*c|\??[\d;]*n|\??[\d;]*\$p|>\d*q|\?u)$/;
/** The final bytes of the CSI queries: any other CSI (colours, cursor moves: most of the output) is kept without a closer look. */
const CSI_QUERY_FINALS = new Set([...'cnpqu'].map((c) => c.charCodeAt(0)));
/** What follows `ESC P` in a query. */
const DCS_QUERY = /^[$+]q/;
/** What is between `ESC ]` and the end (BEL or ST) in a query. */
const OSC_COLOUR_QUERY = /^(?:4|10|11|12);(?:.*;)?\?$/;

function isQuery(sequence: Buffer): boolean {
  const last = sequence[sequence.length - 1]!;
  switch (sequence[1]) {
    case 0x5b /* [ */:
      return CSI_QUERY_FINALS.has(last) && CSI_QUERY.test(sequence.toString('latin1', 2));
    case 0x50 /* P */:
      return DCS_QUERY.test(sequence.toString('latin1', 2));
    case 0x5d /* ] */:
      return OSC_COLOUR_QUERY.test(sequence.toString('latin1', 2, sequence.length - (last === BEL ? 1 : 2)));
    default:
      return false;
  }
}
