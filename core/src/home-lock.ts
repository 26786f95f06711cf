import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { StartRefused } from './errors.js';
import { runningDaemonPid } from './socket-claim.js';

export interface HomeLock {
  release(): Promise<void>;
}

/**
 * One daemon per home, decided before anything else starts: the lock is a
 * Linux abstract Unix socket named after the home's real path. Binding it is
 * atomic, and it vanishes with its process (a crash leaves nothing stale to
 * clean up). Elsewhere the socket claim alone decides.
 */
export async function lockHome(home: string, socketPath: string): Promise<HomeLock> {
  if (process.platform !== 'linux') return { release: async () => undefined };
  const name = `\0codepiper-home-${createHash('sha256').update(fs.realpathSync(home)).digest('hex').slice(0, 40)}`;
  const server = net.createServer((socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, resolve);
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const pid = await runningDaemonPid(socketPath);
    throw new StartRefused(typeof pid === 'number' ? `a daemon is already running (pid ${pid}), listening on ${socketPath}` : `another daemon is starting on ${home}`, { cause: error });
  }
  server.unref();
  return { release: () => new Promise((resolve) => server.close(() => resolve())) };
}
