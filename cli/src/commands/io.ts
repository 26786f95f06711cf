import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { CAC } from 'cac';
import { imageTypeOf, MAX_IMAGE_BYTES, MAX_INPUT_CHARACTERS, openTerminal, sessionEndpoints, type ImageType } from '@codepiper/sessions-contract';
import type { ApiClient } from '@codepiper/sdk';
import { optionValue, parseKeys, parsePositiveInt } from '../args.js';
import { takesRest, withoutDefault } from '../command-line.js';
import { activeRemote, connect } from '../client.js';
import { forSession, UsageError } from '../errors.js';
import { follow } from '../follow.js';
import { printJson, printText } from '../output.js';
import { readAll } from '../stdin.js';
import { TerminalQueryFilter } from '../terminal-queries.js';

const DEFAULT_TAIL_LINES = '50';

/** An image file as the daemon takes it; a usage error names a file that is missing, too large or not an image. */
function readImage(file: string): { mediaType: ImageType; data: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new UsageError(`--image ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (bytes.length > MAX_IMAGE_BYTES) throw new UsageError(`--image ${file}: ${bytes.length} bytes; an image may have at most ${MAX_IMAGE_BYTES}`);
  const mediaType = imageTypeOf(bytes);
  if (!mediaType) throw new UsageError(`--image ${file}: not a PNG, JPEG, GIF or WebP image`);
  return { mediaType, data: bytes.toString('base64') };
}

export function registerIoCommands(cli: CAC): void {
  takesRest(
    withoutDefault(
      cli
        .command('send <id> [...text]', 'Type text into a session (literally), then Enter; with no text, what is piped in')
        .option('--no-enter', 'Type the text without pressing Enter after it')
        .option('--image <file>', 'An image for the agent to read with the text: PNG, JPEG, GIF or WebP (repeat for more; agents that read images)'),
    )
      .usage('send <id> <text...> [--no-enter] [--image FILE] [-- text starting with -]  |  send <id> < FILE')
      .example(`  $ codepiper send ab12 'fix the failing test; then run "npm test"'`)
      .example('  $ codepiper send ab12 < prompt.md')
      .example(`  $ codepiper send ab12 --image screenshot.png 'why is the button cut off?'`)
      .example('  $ codepiper send ab12 --no-enter -- -n')
      .action(async (id: string, words: string[], options: { enter?: boolean; image?: string | string[]; '--': string[] }) => {
        const parts = [...words, ...options['--']];
        const images = [options.image ?? []].flat().map(readImage);
        // Piped text's own last newline is not part of it: Enter follows anyway.
        const typed = parts.length === 0 && images.length === 0 && !process.stdin.isTTY ? (await readAll()).replace(/\r?\n$/, '') : parts.join(' ');
        if (typed === '' && images.length === 0) throw new UsageError('nothing to send: give the text after the session id, or pipe it in');
        const length = [...typed].length;
        if (length > MAX_INPUT_CHARACTERS) {
          throw new UsageError(`the text is ${length} characters long; one send takes at most ${MAX_INPUT_CHARACTERS} (put it in a file and ask the agent to read it)`);
        }
        const client = connect();
        const references: string[] = [];
        for (const image of images) references.push((await forSession(id, client.call(sessionEndpoints.image, { params: { id }, body: image }))).reference);
        const text = references.join('') + typed;
        await forSession(id, client.call(sessionEndpoints.input, { params: { id }, body: { text, enter: options.enter } }));
      }),
  );

  cli
    .command('keys <id> <...keys>', 'Press keys in a session')
    .example('  $ codepiper keys ab12 ctrl+c')
    .example('  $ codepiper keys ab12 down down enter')
    .example('  $ codepiper keys ab12 esc shift+tab C-d')
    .action(async (id: string, words: string[]) => {
      const keys = parseKeys(words);
      await forSession(id, connect().call(sessionEndpoints.keys, { params: { id }, body: { keys } }));
    });

  cli
    .command('output <id>', 'Print what a session’s screen shows now')
    .option('--json', 'Print the API response (text, size, cursor) as JSON')
    .example('  $ codepiper output ab12')
    .action(async (id: string, options: { json?: boolean }) => {
      const screen = await forSession(id, connect().call(sessionEndpoints.screen, { params: { id } }));
      if (options.json) printJson(screen);
      else printText(screen.text);
    });

  cli
    .command('tail <id>', 'Print the last lines of a session’s output; with -f, then its output as it comes')
    .option('-n, --lines <n>', `How many lines (default: ${DEFAULT_TAIL_LINES})`)
    .option('-f, --follow', 'Keep printing the raw output until the session ends or Ctrl-C')
    .example('  $ codepiper tail ab12 -n 200')
    .example('  $ codepiper tail ab12 -f')
    .action(async (id: string, options: { lines?: unknown; follow?: boolean }) => {
      const lines = parsePositiveInt(optionValue(options.lines, '--lines') ?? DEFAULT_TAIL_LINES, '--lines');
      const client = connect();
      if (!options.follow) {
        const { text } = await forSession(id, client.call(sessionEndpoints.scrollback, { params: { id }, query: { lines } }));
        printText(text);
        return;
      }
      // One stream: the last lines, then every byte from where they end, nothing in between lost.
      // A terminal is spared the questions the programs asked of theirs: it would answer them into the user's shell.
      const queries = process.stdout.isTTY ? new TerminalQueryFilter() : undefined;
      const socket = await forSession(
        id,
        client.openSocket(sessionEndpoints.terminal, { params: { id }, query: { lines } }, (data, isBinary) => {
          if (isBinary) process.stdout.write(queries ? queries.strip(data) : data);
        }),
      );
      await follow(socket);
    });

  cli
    .command('attach <id>', 'Attach this terminal to a session with tmux (detach with the tmux prefix, then d); on a remote daemon, through its terminal stream (detach with Ctrl-])')
    .example('  $ codepiper attach ab12')
    .example('  $ codepiper --remote devbox attach ab12    # no tmux needed here')
    .action(async (id: string) => {
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        throw new Error('attach needs an interactive terminal (to read a session without one: codepiper tail <id> -f)');
      }
      const remote = activeRemote();
      if (remote) return attachRemote(connect(), id, remote.name);
      const { tmux, socket, target } = await forSession(id, connect().call(sessionEndpoints.attachInfo, { params: { id } }));
      // The daemon's tmux server is not the one in $TMUX: attaching from inside tmux is a plain nested client.
      const result = spawnSync(tmux, ['-S', socket, 'attach-session', '-t', target], { stdio: 'inherit', env: { ...process.env, TMUX: undefined } });
      if (result.error) throw new Error(`cannot run ${tmux}: ${result.error.message}`);
      return result.status ?? 1;
    });
}

/** Ctrl-], as telnet has it: a key no agent's terminal needs. */
const DETACH_KEY = 0x1d;

/** Attaches this terminal to a session of a remote daemon through its terminal WebSocket: keys go there, its output comes here. */
async function attachRemote(client: ApiClient, id: string, remoteName: string): Promise<number> {
  const session = await forSession(id, client.call(sessionEndpoints.show, { params: { id } }));
  const { stdin, stdout } = process;
  let end: (code: number) => void = () => undefined;
  const ended = new Promise<number>((resolve) => (end = resolve));
  process.stderr.write(`attached to ${session.name} on ${remoteName}; detach with Ctrl-]\r\n`);
  const queries = new TerminalQueryFilter();
  const terminal = await openTerminal(client, session.id, {
    size: { cols: stdout.columns, rows: stdout.rows },
    onData: (data) => stdout.write(queries.strip(data)),
    onError: (message) => process.stderr.write(`\r\n${message}\r\n`),
  });
  const onKeys = (chunk: Buffer): void => {
    const detach = chunk.indexOf(DETACH_KEY);
    if (detach === -1) return terminal.type(chunk);
    if (detach > 0) terminal.type(chunk.subarray(0, detach));
    end(0);
  };
  const onResize = (): void => terminal.resize(stdout.columns, stdout.rows);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', onKeys);
  stdout.on('resize', onResize);
  terminal.socket.once('close', () => end(0));
  const code = await ended;
  stdin.off('data', onKeys);
  stdout.off('resize', onResize);
  stdin.setRawMode(false);
  stdin.pause();
  terminal.socket.close();
  process.stderr.write(`\r\ndetached from ${session.name}\n`);
  return code;
}
