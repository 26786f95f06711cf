import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyticsEndpoints, type ImportStatus } from '@codepiper/sdk';
import { TestDaemon } from '@codepiper/tests/harness';
import { round } from './stats.js';
import { TranscriptSet } from './transcript-set.js';

const MB = 1024 * 1024;
/** Set sizes to import, each into a fresh daemon; the last is the full set (default 1 GB). */
const SIZES_MB = (process.env.BENCH_ANALYTICS_SIZES_MB ?? '128,256,512,1024').split(',').map(Number);

function peakRssMB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

async function importAll(daemon: TestDaemon, set: TranscriptSet): Promise<ImportStatus> {
  const started = await daemon.client.call(analyticsEndpoints.startImport, { body: { dirs: { 'claude-code': set.claudeDir, codex: set.codexDir } } });
  let status = started;
  const socket = await daemon.client.openSocket(analyticsEndpoints.followImport, { params: { id: started.id } }, (data) => {
    status = JSON.parse(data.toString('utf8')) as ImportStatus;
  });
  await new Promise((resolve) => socket.once('close', resolve));
  if (status.state !== 'done') throw new Error(`the import ended ${status.state}: ${status.error ?? ''}`);
  return status;
}

export interface ImportRun {
  setMB: number;
  files: number;
  responses: number;
  toolCalls: number;
  seconds: number;
  mbPerSecond: number;
  daemonPeakRssMB: number;
}

/**
 * `codepiper analytics import` of a generated transcript set at several sizes,
 * each into a fresh daemon: speed, and the daemon's peak RSS, which should
 * not grow with the data.
 */
export async function analyticsImport(): Promise<Record<string, ImportRun>> {
  const root = mkdtempSync(path.join(tmpdir(), 'cp-bench-analytics-'));
  const set = new TranscriptSet(root);
  const runs: Record<string, ImportRun> = {};
  try {
    for (const size of SIZES_MB) {
      set.growTo(size * MB);
      const daemon = await TestDaemon.start();
      try {
        const t0 = performance.now();
        const status = await importAll(daemon, set);
        const seconds = (performance.now() - t0) / 1000;
        runs[`${size}MB`] = {
          setMB: round(set.bytes / MB, 1),
          files: status.files.total,
          responses: status.added.usage,
          toolCalls: status.added.toolCalls,
          seconds: round(seconds, 2),
          mbPerSecond: round(status.bytes.total / MB / seconds, 1),
          daemonPeakRssMB: round(peakRssMB(daemon.process!.pid!), 1),
        };
        console.error(`  ${size} MB: ${JSON.stringify(runs[`${size}MB`])}`);
      } finally {
        await daemon.dispose();
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return runs;
}
