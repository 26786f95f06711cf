import type { ApiClient, WebSocket } from '@codepiper/sdk';
import { sessionEndpoints, type TerminalServerMessage } from './sessions.js';

export interface TerminalStream {
  socket: WebSocket;
  /** The terminal's size when output began to flow. */
  size: { cols: number; rows: number };
  /** Types bytes into the session, as a keyboard would. */
  type(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
}

/**
 * Opens a session's live terminal and resolves once output flows: the screen
 * (unless `snapshot` is false) has been delivered to `onData`, and every byte
 * printed from then on will be.
 */
export async function openTerminal(
  client: ApiClient,
  id: string,
  /** `size`: the viewer's, which the session takes before its first screen is sent. */
  options: { snapshot?: boolean; size?: { cols: number; rows: number }; onData: (data: Buffer) => void; onError?: (message: string) => void },
): Promise<TerminalStream> {
  let markReady: (size: { cols: number; rows: number }) => void = () => undefined;
  const ready = new Promise<{ cols: number; rows: number }>((resolve) => (markReady = resolve));
  const socket = await client.openSocket(sessionEndpoints.terminal, { params: { id }, query: { snapshot: options.snapshot ?? true, ...options.size } }, (data, isBinary) => {
    if (isBinary) return options.onData(data);
    const message = JSON.parse(data.toString('utf8')) as TerminalServerMessage;
    if (message.type === 'ready') markReady({ cols: message.cols, rows: message.rows });
    else options.onError?.(message.message);
  });
  const closed = new Promise<never>((_, reject) =>
    socket.once('close', (code, reason) => reject(new Error(`terminal stream closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`))),
  );
  const size = await Promise.race([ready, closed]);
  return {
    socket,
    size,
    type: (data) => socket.send(typeof data === 'string' ? Buffer.from(data) : data, { binary: true }),
    resize: (cols, rows) => socket.send(JSON.stringify({ type: 'resize', cols, rows })),
  };
}
