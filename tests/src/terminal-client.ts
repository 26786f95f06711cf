import { sessionEndpoints, type ApiClient, type WebSocket } from '@codepiper/sdk';
import { waitFor } from './harness.js';

export interface TerminalReader {
  ready: Promise<WebSocket>;
  /** Everything received so far, decoded. */
  text(): string;
  frames: Buffer[];
  until(predicate: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): void;
}

/** Opens a session's terminal WebSocket and collects what it sends. */
export function readTerminal(client: ApiClient, id: string, query: { snapshot?: boolean } = {}): TerminalReader {
  const frames: Buffer[] = [];
  const ready = client.openSocket(sessionEndpoints.terminal, { params: { id }, query }).then((socket) => {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) frames.push(data);
    });
    return socket;
  });
  const text = () => Buffer.concat(frames).toString('utf8');
  return {
    ready,
    frames,
    text,
    until: (predicate, timeoutMs = 10_000) => waitFor('terminal output', () => (predicate(text()) ? text() : undefined), timeoutMs),
    close: () => void ready.then((socket) => socket.close()),
  };
}
