import type { WebSocket } from '@codepiper/sdk';

/**
 * Pings the WebSockets it watches every `intervalMs`, and ends each that has
 * not answered the last ping by the next. A phone that lost its network, or
 * was put to sleep, leaves a connection that no FIN closes: without this,
 * what the socket holds (a session's watch: a tmux client and a copy of its
 * screen) would run until the daemon stops. The pings also keep a quiet
 * terminal's connection open through a proxy that closes idle ones.
 * Clients answer at the protocol level (browsers, `ws`): no code of theirs.
 */
export class SocketHeartbeat {
  /** Each socket watched, and whether it answered the last ping. */
  private readonly answered = new Map<WebSocket, boolean>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  watch(socket: WebSocket): void {
    this.answered.set(socket, true);
    socket.on('pong', () => {
      if (this.answered.has(socket)) this.answered.set(socket, true);
    });
    socket.once('close', () => {
      this.answered.delete(socket);
      if (this.answered.size === 0) this.close();
    });
    this.timer ??= setInterval(() => this.beat(), this.intervalMs).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private beat(): void {
    for (const [socket, answered] of this.answered) {
      if (!answered) {
        socket.terminate();
        continue;
      }
      this.answered.set(socket, false);
      socket.ping();
    }
  }
}
