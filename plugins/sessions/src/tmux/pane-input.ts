import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyedLock } from '@codepiper/sdk';
import type { KeyName } from '@codepiper/sessions-contract';
import type { ControlClient } from './control.js';
import { TmuxError } from './errors.js';
import { tmuxKey } from './keys.js';
import { hexArgs, quote } from './protocol.js';
import { assertPane } from './requests.js';
import type { ScratchDir } from './scratch.js';

/**
 * Bytes per `send-keys -H` command. tmux's parser overflows past ~10000
 * arguments and gets slower per argument as a command grows: 64 is the
 * fastest here (about 1.5 µs a byte; 1024 takes three times longer).
 */
const TYPE_CHUNK = 64;

/**
 * Input into panes over the command channel: typed, pasted or pressed, in the
 * order it was asked for per pane. User text never appears in a tmux command
 * line: it is sent as hex bytes or loaded from a private file.
 */
export class PaneInput {
  /** Per pane, the last input operation. */
  private readonly lanes = new KeyedLock();

  constructor(
    private readonly control: () => Promise<ControlClient>,
    private readonly scratch: ScratchDir,
  ) {}

  /**
   * Types text literally, as UTF-8 bytes (`send-keys -H`): never interpreted
   * by tmux or a shell. About 1.5 µs a byte; see pasteText for large text.
   */
  async typeText(pane: string, text: string): Promise<void> {
    assertPane(pane);
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length === 0) return;
    return this.lanes.run(pane, async () => {
      const client = await this.control();
      const sends: Promise<string[]>[] = [];
      for (let start = 0; start < bytes.length; start += TYPE_CHUNK) {
        sends.push(client.command(`send-keys -t ${pane} -H ${hexArgs(bytes, start, Math.min(start + TYPE_CHUNK, bytes.length))}`));
      }
      await Promise.all(sends);
    });
  }

  /**
   * Pastes text: the bytes reach the program unchanged, like typeText, but
   * in one write (fast for large text) and, if `bracketed` (default) and the
   * program asked for bracketed paste, between `ESC[200~` and `ESC[201~` so
   * that newlines do not submit. The text goes through a private file that
   * tmux loads (`load-buffer` + `paste-buffer -d -r`).
   */
  async pasteText(pane: string, text: string, options: { bracketed?: boolean } = {}): Promise<void> {
    assertPane(pane);
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length === 0) return;
    return this.lanes.run(pane, async () => {
      const file = await this.scratch.path(`cp-paste-${process.pid}`);
      const buffer = path.basename(file);
      await writeFile(file, bytes, { mode: 0o600 });
      try {
        const client = await this.control();
        await client.commands([`load-buffer -b ${buffer} ${quote(file)}`, `paste-buffer -d -r ${options.bracketed === false ? '' : '-p '}-b ${buffer} -t ${pane}`]);
      } finally {
        await rm(file, { force: true });
      }
    });
  }

  /** Presses keys, in order. */
  async pressKeys(pane: string, keys: readonly KeyName[]): Promise<void> {
    assertPane(pane);
    if (keys.length === 0) return;
    const names = keys.map((key) => {
      const name = tmuxKey(key);
      if (name === undefined) throw new TmuxError('invalid_request', `unknown key ${JSON.stringify(key)}`);
      return quote(name);
    });
    return this.lanes.run(pane, async () => {
      await (await this.control()).command(`send-keys -t ${pane} ${names.join(' ')}`);
    });
  }
}
