import { sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { cpuSeconds, rssMegabytes } from './proc.js';
import { distribution, round } from './stats.js';

const SESSIONS = 100;
const WINDOW_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);

export interface IdleResult {
  sessions: number;
  seconds: number;
  daemonCpuPercent: number;
  /** The median of a reading a second: V8 gives back the memory its start took only after some idle seconds, at no fixed time. */
  daemonRssMB: number;
  daemonRssMaxMB: number;
  daemonRssLastMB: number;
}

export async function idleCost(): Promise<IdleResult> {
  const daemon = await TestDaemon.start();
  try {
    for (let i = 0; i < SESSIONS; i++) {
      await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', args: ['cat'], name: `idle-${i}` } });
    }
    const pid = daemon.process!.pid!;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = cpuSeconds(pid);
    const rss: number[] = [];
    for (let second = 0; second < WINDOW_SECONDS; second++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      rss.push(rssMegabytes(pid));
    }
    const used = cpuSeconds(pid) - before;
    const { p50, max } = distribution(rss);
    return {
      sessions: SESSIONS,
      seconds: WINDOW_SECONDS,
      daemonCpuPercent: round((used / WINDOW_SECONDS) * 100, 3),
      daemonRssMB: round(p50, 1),
      daemonRssMaxMB: round(max, 1),
      daemonRssLastMB: round(rss.at(-1)!, 1),
    };
  } finally {
    await daemon.dispose();
  }
}
