import { Value } from '@sinclair/typebox/value';
import { isFinished, TerminalClientMessage, TerminalClose } from '@codepiper/sessions-contract';
import type { Logger, WebSocket } from '@codepiper/sdk';
import type { StoredSession } from './repository.js';
import type { SessionService } from './service.js';
import type { TmuxServer, WatchOptions } from './tmux/index.js';

/** A viewer that falls this far behind is cut off (1013, try again later: it reconnects to a fresh screen). */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/**
 * Streams a session's terminal to one client: the current screen, then every
 * byte as printed (binary frames). A text frame `{"type":"ready","cols","rows"}`
 * marks the moment output flows; `{"type":"error","message"}` reports refused
 * input. Takes input (binary frames, or JSON text frames) and resizes.
 */
export async function serveTerminal(
  socket: WebSocket,
  ref: string,
  options: { snapshot: NonNullable<WatchOptions['snapshot']>; size?: { cols: number; rows: number } },
  deps: { sessions: SessionService; tmux: TmuxServer; log: Logger },
): Promise<void> {
  // Listen before the first await: a client writes as soon as the socket opens,
  // and a message that arrives with no listener is dropped. Messages are handled
  // one after another, so keystrokes reach the session in the order typed.
  const found = deps.sessions.find(ref);
  let inbox: Promise<unknown> = found.catch(() => undefined);
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    inbox = inbox.then(async () => {
      const session = await found.catch(() => undefined);
      if (!session) return;
      await handleMessage(session, data, isBinary).catch((error: Error) => {
        deps.log.debug({ err: error, session: session.id }, 'terminal input refused');
        socket.send(JSON.stringify({ type: 'error', message: error.message }));
      });
    });
  });

  const session = await found.catch((error: Error) => {
    socket.close(TerminalClose.notFound, error.message.slice(0, 120));
    return undefined;
  });
  if (!session) return;
  if (isFinished(session.status)) {
    const first = options.snapshot;
    if (first === true) {
      const screen = await deps.sessions.screen(session.id).catch(() => undefined);
      if (screen) socket.send(Buffer.from('\x1b[H\x1b[2J' + screen.text.replaceAll('\n', '\r\n')));
    } else if (first !== false) {
      const text = await deps.sessions.scrollback(session.id, first.lines).catch(() => undefined);
      if (text) socket.send(Buffer.from(text.replaceAll('\n', '\r\n')));
    }
    socket.close(TerminalClose.ended, `session has ${session.status}`);
    return;
  }

  // Before the snapshot: drawn at its old size, a wider screen would wrap into a garble on a phone.
  if (options.size) {
    await deps.sessions.resize(session.id, options.size.cols, options.size.rows).catch((error: Error) => {
      deps.log.debug({ err: error, session: session.id }, 'could not take the viewer’s size before the first screen');
    });
  }

  // tmux delivers output in many small pieces; those that arrive together go out as one message.
  let pending: Buffer[] = [];
  const flush = (): void => {
    const chunks = pending;
    pending = [];
    if (chunks.length === 0) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) socket.close(1013, 'client too slow');
    else socket.send(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), { binary: true });
  };
  const stopWatching = deps.tmux.watch(session.tmuxSession, {
    snapshot: options.snapshot,
    onData: (data) => {
      if (pending.push(data) === 1) setImmediate(flush);
    },
    onReady: ({ cols, rows }) => socket.send(JSON.stringify({ type: 'ready', cols, rows })),
    onEnd: () => {
      // The program's last output may still wait for its flush.
      flush();
      socket.close(TerminalClose.ended, 'session ended');
    },
  });
  socket.on('close', stopWatching);

  async function handleMessage(session: StoredSession, data: Buffer, isBinary: boolean): Promise<void> {
    if (isBinary) return deps.sessions.typeRaw(session, data.toString('utf8'), 'terminal');
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      message = undefined;
    }
    if (!Value.Check(TerminalClientMessage, message)) {
      socket.close(TerminalClose.badMessage, 'expected {"type":"input","data"} or {"type":"resize","cols","rows"}');
      return;
    }
    if (message.type === 'input') await deps.sessions.typeRaw(session, message.data, 'terminal');
    else await deps.sessions.resize(session.id, message.cols, message.rows);
  }
}
