import { openTerminal, type TerminalStream } from '@codepiper/sessions-contract';
import type { ApiClient } from '@codepiper/sdk';
import { waitFor } from './harness.js';

export interface TerminalReader {
  /** Resolves once output flows (after the snapshot). */
  ready: Promise<TerminalStream>;
  /** The close code, once the daemon or the client closes the stream. */
  closed: Promise<number>;
  /** Everything received so far, decoded. */
  text(): string;
  until(predicate: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): void;
}

/** Opens a session's terminal WebSocket and collects what it sends. */
export function readTerminal(client: ApiClient, id: string, query: { snapshot?: boolean; size?: { cols: number; rows: number } } = {}): TerminalReader {
  const frames: Buffer[] = [];
  let closedWith: (code: number) => void = () => undefined;
  const closed = new Promise<number>((resolve) => (closedWith = resolve));
  const ready = openTerminal(client, id, { snapshot: query.snapshot, ...(query.size && { size: query.size }), onData: (data) => frames.push(data) });
  ready.then(
    (stream) => stream.socket.once('close', closedWith),
    (error: Error) => closedWith(Number(/\((\d+)/.exec(error.message)?.[1] ?? 0)),
  );
  const text = () => Buffer.concat(frames).toString('utf8');
  return {
    ready,
    closed,
    text,
    until: (predicate, timeoutMs = 10_000) => waitFor('terminal output', () => (predicate(text()) ? text() : undefined), timeoutMs),
    close: () => void ready.then((stream) => stream.socket.close()),
  };
}
