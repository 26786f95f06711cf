import type { Terminal } from '@xterm/headless';
import type { SerializeAddon } from '@xterm/addon-serialize';

/** Written to the copy and not yet parsed: past the first, the feed should pause; below the second, go on. */
const BACKLOG_PAUSE_BYTES = 4 * 1024 * 1024;
const BACKLOG_RESUME_BYTES = 1024 * 1024;

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
 */
export class PaneScreen {
  /** Bytes written and not yet parsed. */
  private backlog = 0;

  private constructor(
    private readonly terminal: Terminal,
    private readonly serializer: SerializeAddon,
    private readonly scrollback: number,
    /** Told when the backlog grows past its limit (true) and when it has shrunk again (false). */
    private readonly onBacklog: (full: boolean) => void,
  ) {}

  /** A copy of `cols` × `rows` keeping `scrollback` lines above the screen, showing `seed` (terminal escapes). */
  static async create(size: { cols: number; rows: number }, scrollback: number, seed: Buffer, onBacklog: (full: boolean) => void): Promise<PaneScreen> {
    // Loaded with the first watch: the emulator is most of a megabyte of code that a daemon nobody watches does not need.
    const [{ default: headless }, { SerializeAddon }] = await Promise.all([import('@xterm/headless'), import('@xterm/addon-serialize')]);
    const terminal = new headless.Terminal({ ...size, scrollback, allowProposedApi: true });
    const serializer = new SerializeAddon();
    terminal.loadAddon(serializer);
    const screen = new PaneScreen(terminal, serializer, scrollback, onBacklog);
    screen.write(seed);
    return screen;
  }

  write(data: Uint8Array): void {
    const size = data.length;
    const before = this.backlog;
    this.backlog += size;
    if (before <= BACKLOG_PAUSE_BYTES && this.backlog > BACKLOG_PAUSE_BYTES) this.onBacklog(true);
    this.terminal.write(data, () => {
      const was = this.backlog;
      this.backlog -= size;
      if (was > BACKLOG_RESUME_BYTES && this.backlog <= BACKLOG_RESUME_BYTES) this.onBacklog(false);
    });
  }

  resize(cols: number, rows: number): void {
    if (cols > 0 && rows > 0 && (cols !== this.terminal.cols || rows !== this.terminal.rows)) this.terminal.resize(cols, rows);
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.terminal.cols, rows: this.terminal.rows };
  }

  /**
   * The frame of everything written so far, once it is parsed: what is
   * written after this call is not in it.
   */
  frame(first: FirstFrame): Promise<Buffer> {
    return new Promise((resolve) => {
      this.terminal.write('', () => resolve(first === true ? this.screenFrame() : this.tailFrame(first.lines)));
    });
  }

  dispose(): void {
    this.terminal.dispose();
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
