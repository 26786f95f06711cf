import type { Terminal } from '@xterm/headless';
import type { SerializeAddon } from '@xterm/addon-serialize';
import { PlainRun, plainText } from './plain-run.js';

/** Written to the copy and not yet parsed: past the first, the feed should pause; below the second, go on. */
const BACKLOG_PAUSE_BYTES = 4 * 1024 * 1024;
const BACKLOG_RESUME_BYTES = 1024 * 1024;
/** A run of plain text that cannot be cut (no carriage returns, say) is parsed once it is this long. */
const PLAIN_RUN_MAX_BYTES = 4 * 1024 * 1024;

/** A viewer's first frame: the screen as terminal escapes, or the last `lines` lines up to the cursor as plain text. */
export type FirstFrame = true | { lines: number };

/**
 * A copy of a pane's screen, kept by a terminal emulator in the daemon
 * (xterm.js without a display) from the pane's own output. A viewer who
 * joins while output flows gets the screen as of an exact byte of the
 * stream, and the stream from the byte after it. tmux's snapshot cannot be
 * joined to the pipe that way (nothing tells which byte of the pipe it was
 * taken at), so it only seeds the copy, in the command line that starts the
 * pipe.
 *
 * Plain text that follows plain text is held back (see PlainRun): of a long
 * run of lines only the last screen and scrollback are parsed.
 */
export class PaneScreen {
  /** Bytes written and not yet parsed. */
  private backlog = 0;
  private readonly run = new PlainRun();
  /** Plain text may go to the run: see allowRuns. */
  private runsAllowed = false;
  /** Counts the writes that were not plain text, each of which ends what a plain one before it allowed. */
  private escapes = 0;
  /** Which of the two screens may have a scroll region set (DECSTBM): plain text there can scroll part of the screen only. */
  private readonly scrollRegions = { normal: false, alternate: false };
  /** The size what is written now will be parsed at: a resize waits for what was written before it. */
  private latest: { cols: number; rows: number };

  private constructor(
    private readonly terminal: Terminal,
    private readonly serializer: SerializeAddon,
    private readonly scrollback: number,
    /** Told when the backlog grows past its limit (true) and when it has shrunk again (false). */
    private readonly onBacklog: (full: boolean) => void,
  ) {
    this.latest = { cols: terminal.cols, rows: terminal.rows };
  }

  /** A copy of `cols` × `rows` keeping `scrollback` lines above the screen, showing `seed` (terminal escapes). */
  static async create(size: { cols: number; rows: number }, scrollback: number, seed: Buffer, onBacklog: (full: boolean) => void): Promise<PaneScreen> {
    // Loaded with the first watch: the emulator is most of a megabyte of code that a daemon nobody watches does not need.
    const [{ default: headless }, { SerializeAddon }] = await Promise.all([import('@xterm/headless'), import('@xterm/addon-serialize')]);
    const terminal = new headless.Terminal({ ...size, scrollback, allowProposedApi: true });
    const serializer = new SerializeAddon();
    terminal.loadAddon(serializer);
    const screen = new PaneScreen(terminal, serializer, scrollback, onBacklog);
    terminal.parser.registerCsiHandler({ final: 'r' }, (params) => {
      const [top = 0, bottom = 0] = params.map((param) => (typeof param === 'number' ? param : NaN));
      const whole = top <= 1 && (bottom === 0 || bottom >= terminal.rows);
      screen.scrollRegions[terminal.buffer.active.type] = !whole;
      return false;
    });
    screen.write(seed);
    return screen;
  }

  write(data: Uint8Array): void {
    const plain = plainText(data);
    if (plain && this.runsAllowed) {
      this.run.add(data, plain.lines, { rows: this.latest.rows, scrollback: this.scrollback });
      if (this.run.bytes > PLAIN_RUN_MAX_BYTES) this.flushRun();
      return;
    }
    if (!plain) {
      this.flushRun();
      this.escapes++;
      this.runsAllowed = false;
      this.parse(data);
      return;
    }
    const escapes = this.escapes;
    this.parse(data, () => this.allowRuns(plain.closesSequences && escapes === this.escapes));
  }

  /** Applied after what was written before it has been parsed, at the size it was printed at. */
  resize(cols: number, rows: number): void {
    if (cols <= 0 || rows <= 0 || (cols === this.latest.cols && rows === this.latest.rows)) return;
    this.flushRun();
    this.latest = { cols, rows };
    this.terminal.write('', () => this.terminal.resize(cols, rows));
  }

  get size(): { cols: number; rows: number } {
    return { ...this.latest };
  }

  /**
   * The frame of everything written so far, once it is parsed: what is
   * written after this call is not in it.
   */
  frame(first: FirstFrame): Promise<Buffer> {
    this.flushRun();
    return new Promise((resolve) => {
      this.terminal.write('', () => resolve(first === true ? this.screenFrame() : this.tailFrame(first.lines)));
    });
  }

  dispose(): void {
    this.terminal.dispose();
  }

  private parse(data: Uint8Array, onParsed?: () => void): void {
    const size = data.length;
    const before = this.backlog;
    this.backlog += size;
    if (before <= BACKLOG_PAUSE_BYTES && this.backlog > BACKLOG_PAUSE_BYTES) this.onBacklog(true);
    this.terminal.write(data, () => {
      const was = this.backlog;
      this.backlog -= size;
      if (was > BACKLOG_RESUME_BYTES && this.backlog <= BACKLOG_RESUME_BYTES) this.onBacklog(false);
      onParsed?.();
    });
  }

  /**
   * Called when plain text has been parsed, with whether it left the parser
   * outside any CSI or ESC sequence and nothing but plain text was written
   * after it: then, unless a scroll region is set, plain text that follows
   * can go to the run.
   */
  private allowRuns(closed: boolean): void {
    if (closed && !this.scrollRegions[this.terminal.buffer.active.type]) this.runsAllowed = true;
  }

  private flushRun(): void {
    for (const chunk of this.run.take(this.latest.rows)) this.parse(chunk);
  }

  /**
   * The screen and its scrollback as escapes a terminal that already shows
   * something can replay: back to the main screen, pen reset, cleared, then
   * the copy's own serialization (colours, modes, the alternate screen if
   * on, the cursor).
   */
  private screenFrame(): Buffer {
    return Buffer.from('\x1b[?1049l\x1b[0m\x1b[H\x1b[2J' + this.serializer.serialize({ scrollback: this.scrollback }), 'utf8');
  }

  /**
   * The last `lines` lines up to the cursor as plain text: the stream goes on
   * from exactly there, a half-printed line included.
   */
  private tailFrame(lines: number): Buffer {
    const buffer = this.terminal.buffer.active;
    const cursorRow = buffer.baseY + buffer.cursorY;
    const rows: string[] = [];
    for (let row = Math.max(0, cursorRow - lines); row < cursorRow; row++) rows.push(buffer.getLine(row)?.translateToString(true) ?? '');
    rows.push(buffer.getLine(cursorRow)?.translateToString(false, 0, buffer.cursorX) ?? '');
    return Buffer.from(rows.join('\r\n'), 'utf8');
  }
}
