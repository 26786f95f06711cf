import type { ApiClient } from '@codepiper/sdk';

type Socket = Awaited<ReturnType<ApiClient['openSocket']>>;

/** Close codes that end a stream normally: the daemon's 1000, or ours after Ctrl-C. */
const NORMAL_CLOSE = new Set([1000, 1005]);

/**
 * Waits until the daemon closes the socket (resolves) or the user presses
 * Ctrl-C (resolves). Rejects if the connection fails or the daemon closes it
 * abnormally. Messages go to the listener given to `openSocket`.
 */
export function follow(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let interrupted = false;
    const interrupt = (): void => {
      interrupted = true;
      socket.terminate();
    };
    process.once('SIGINT', interrupt);
    socket.once('error', reject);
    socket.once('close', (code, reason) => {
      process.off('SIGINT', interrupt);
      if (interrupted || NORMAL_CLOSE.has(code)) resolve();
      else reject(new Error(`the daemon closed the stream (code ${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`));
    });
  });
}
