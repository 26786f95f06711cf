import { sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { cpuSeconds, rssMegabytes } from './proc.js';
import { round } from './stats.js';

const SESSIONS = 100;
const WINDOW_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);

export interface IdleResult {
  sessions: number;
  seconds: number;
  daemonCpuPercent: number;
  daemonRssMB: number;
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
    await new Promise((resolve) => setTimeout(resolve, WINDOW_SECONDS * 1000));
    const used = cpuSeconds(pid) - before;
    return { sessions: SESSIONS, seconds: WINDOW_SECONDS, daemonCpuPercent: round((used / WINDOW_SECONDS) * 100, 3), daemonRssMB: round(rssMegabytes(pid), 1) };
  } finally {
    await daemon.dispose();
  }
}
