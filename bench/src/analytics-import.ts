import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyticsEndpoints, type ImportStatus } from '@codepiper/analytics-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { installedFromNpm } from './npm-cache.js';
import { peakRssMegabytes } from './proc.js';
import { round } from './stats.js';
import { TranscriptSet } from './transcript-set.js';

const MB = 1024 * 1024;
/** Set sizes to import, each into a fresh daemon; the last is the full set (default 1 GB). */
const SIZES_MB = (process.env.BENCH_ANALYTICS_SIZES_MB ?? '128,256,512,1024').split(',').map(Number);

/**
 * ccusage 18.0.11: the last release that runs on Node 20 (19 needs Node 22;
 * 20 is a native binary per platform, not on every registry).
 */
const CCUSAGE = '18.0.11';

async function importAll(daemon: TestDaemon, dirs: Record<string, string>): Promise<ImportStatus> {
  const started = await daemon.client.call(analyticsEndpoints.startImport, { body: { dirs } });
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
export async function analyticsImport(): Promise<{ runs: Record<string, ImportRun>; againstCcusage: CcusageComparison | null }> {
  const root = mkdtempSync(path.join(tmpdir(), 'cp-bench-analytics-'));
  const set = new TranscriptSet(root);
  const runs: Record<string, ImportRun> = {};
  try {
    for (const size of SIZES_MB) {
      set.growTo(size * MB);
      const daemon = await TestDaemon.start();
      try {
        const t0 = performance.now();
        const status = await importAll(daemon, { 'claude-code': set.claudeDir, codex: set.codexDir });
        const seconds = (performance.now() - t0) / 1000;
        runs[`${size}MB`] = {
          setMB: round(set.bytes / MB, 1),
          files: status.files.total,
          responses: status.added.usage,
          toolCalls: status.added.toolCalls,
          seconds: round(seconds, 2),
          mbPerSecond: round(status.bytes.total / MB / seconds, 1),
          daemonPeakRssMB: round(peakRssMegabytes(daemon.process!.pid!), 1),
        };
        console.error(`  ${size} MB: ${JSON.stringify(runs[`${size}MB`])}`);
      } finally {
        await daemon.dispose();
      }
    }
    return { runs, againstCcusage: await compareWithCcusage(set) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Token totals as both tools count them. */
interface Tokens {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

interface ToolRun {
  seconds: number;
  peakRssMB: number;
  tokens: Tokens;
}

export interface CcusageComparison {
  claudeMB: number;
  codepiper: ToolRun;
  ccusage: ToolRun;
  speedRatio: number;
  extraMemoryMB: number;
  totalsEqual: boolean;
}

/**
 * The set's Claude Code transcripts (ccusage reads no other agent's) through
 * both: ours imported into a fresh daemon and then reported, theirs as
 * `ccusage daily --json --offline`, the time and peak memory of each and
 * whether they count the same tokens.
 */
async function compareWithCcusage(set: TranscriptSet): Promise<CcusageComparison | null> {
  const check = path.join('node_modules', 'ccusage', 'dist', 'index.js');
  const dir = installedFromNpm(`ccusage-${CCUSAGE}`, [`ccusage@${CCUSAGE}`], check);
  if (!dir) return null;
  if (!existsSync('/usr/bin/time')) {
    console.error("no /usr/bin/time (Debian's package time) to read ccusage's peak memory; not compared");
    return null;
  }
  const ccusage = runCcusage(path.join(dir, check), set.claudeConfigDir);
  const ours = await importClaude(set);
  return {
    claudeMB: round(set.claudeBytes / MB, 1),
    codepiper: ours,
    ccusage,
    speedRatio: round(ccusage.seconds / ours.seconds),
    extraMemoryMB: round(ours.peakRssMB - ccusage.peakRssMB, 1),
    totalsEqual: JSON.stringify(ours.tokens) === JSON.stringify(ccusage.tokens),
  };
}

async function importClaude(set: TranscriptSet): Promise<ToolRun> {
  const daemon = await TestDaemon.start();
  try {
    const t0 = performance.now();
    // Codex from an empty directory: only Claude's transcripts are read.
    const noCodex = path.join(set.root, 'no-codex');
    mkdirSync(noCodex, { recursive: true });
    await importAll(daemon, { 'claude-code': set.claudeDir, codex: noCodex });
    const { total } = await daemon.client.call(analyticsEndpoints.usage, { query: { by: 'provider' } });
    const seconds = (performance.now() - t0) / 1000;
    const tokens = { input: total.input, output: total.output, cacheWrite: total.cacheWrite5m + total.cacheWrite1h, cacheRead: total.cacheRead };
    return { seconds: round(seconds, 2), peakRssMB: round(peakRssMegabytes(daemon.process!.pid!), 1), tokens };
  } finally {
    await daemon.dispose();
  }
}

function runCcusage(script: string, configDir: string): ToolRun {
  const t0 = performance.now();
  // GNU time prints the peak RSS (KB) of ccusage on stderr's last line.
  const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, script, 'daily', '--json', '--offline'], {
    env: { ...process.env, CLAUDE_CONFIG_DIR: configDir },
    encoding: 'utf8',
    maxBuffer: 64 * MB,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (result.status !== 0) throw new Error(`ccusage failed: ${result.stderr}`);
  const { totals } = JSON.parse(result.stdout) as { totals: { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number } };
  const peakKB = Number(result.stderr.trim().split('\n').at(-1));
  return {
    seconds: round(seconds, 2),
    peakRssMB: round(peakKB / 1024, 1),
    tokens: { input: totals.inputTokens, output: totals.outputTokens, cacheWrite: totals.cacheCreationTokens, cacheRead: totals.cacheReadTokens },
  };
}
