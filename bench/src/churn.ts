import { readdirSync } from 'node:fs';
import { openTerminal, sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { rssMegabytes } from './proc.js';
import { round } from './stats.js';

const SESSIONS = Number(process.env.BENCH_CHURN_SESSIONS ?? 1000);
const READINGS = 10;

export interface ChurnResult {
  sessions: number;
  sessionsPerSecond: number;
  /** The daemon's RSS before the first session, then after each tenth of them. */
  daemonRssMB: number[];
  /** What the second half of the sessions added: near 0 when nothing is kept of a removed session. */
  secondHalfGrowthMB: number;
  /** The daemon's open files (pipes, sockets, the database) before and after: a leaked one shows here. */
  openFiles: { before: number; after: number };
  /** tmux clients still attached at the end (every watch should have ended), and sessions left in tmux. */
  left: { tmuxClients: number; tmuxSessions: number };
}

const openFiles = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/**
 * Memory over months of sessions coming and going: each of SESSIONS shell
 * sessions is started, watched through its terminal WebSocket until its
 * screen arrives (a tmux client, a pane pipe and a copy of the screen while
 * watched), killed and removed, one after another, through a real daemon.
 */
export async function churn(): Promise<ChurnResult> {
  const daemon = await TestDaemon.start();
  try {
    const pid = daemon.process!.pid!;
    const rss = [round(rssMegabytes(pid), 1)];
    const filesBefore = openFiles(pid);
    const started = performance.now();
    for (let i = 1; i <= SESSIONS; i++) {
      const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', args: ['cat'], name: `churn-${i}` } });
      const terminal = await openTerminal(daemon.client, session.id, { onData: () => undefined });
      const closed = new Promise((resolve) => terminal.socket.once('close', resolve));
      terminal.socket.close();
      await closed;
      await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });
      await daemon.client.call(sessionEndpoints.remove, { params: { id: session.id } });
      if (i % (SESSIONS / READINGS) === 0) rss.push(round(rssMegabytes(pid), 1));
    }
    const seconds = (performance.now() - started) / 1000;
    const lines = (args: string[]): number => daemon.tmux(args).stdout.split('\n').filter(Boolean).length;
    return {
      sessions: SESSIONS,
      sessionsPerSecond: round(SESSIONS / seconds, 1),
      daemonRssMB: rss,
      secondHalfGrowthMB: round(rss.at(-1)! - rss[READINGS / 2]!, 1),
      openFiles: { before: filesBefore, after: openFiles(pid) },
      // The daemon's own control session and its command client stay.
      left: { tmuxClients: lines(['list-clients', '-F', '#{client_pid}']), tmuxSessions: lines(['list-sessions', '-F', '#{session_name}']) },
    };
  } finally {
    await daemon.dispose();
  }
}
