import { openTerminal, sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { PlainTmux } from './plain-tmux.js';
import { childProcesses, cpuSeconds } from './proc.js';
import { distribution, round } from './stats.js';

const BYTES = 50 * 1024 * 1024;
const END = 'BENCH-END';
/**
 * Waits for a line on stdin, prints BYTES of 80-column lines, then the end
 * marker, then stays: tmux drops output a watcher has not yet received when
 * the program exits, and this measures throughput, not exit.
 */
const PROGRAM = ['sh', '-c', `read go; yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678 | head -c ${BYTES}; echo ${END}; exec sleep 600`];

/**
 * Ours and tmux alone take turns this many times: the machines here are noisy,
 * and a slow stretch should show as one odd round, not as the result.
 */
const ROUNDS = 3;

/** One stream's 50 MB: how long it took, and the CPU that carried it. */
interface Stream {
  seconds: number;
  cpu: number;
}

export interface ThroughputResult {
  megabytes: number;
  /** Each round: ours, then tmux alone read through `pipe-pane`. */
  rounds: { codepiperMBps: number; tmuxAloneMBps: number; rateRatio: number; cpuRatio: number }[];
  /** The medians of the rounds. */
  codepiperMBps: number;
  tmuxAloneMBps: number;
  /** Ours against tmux alone, round by round: the rate, and the CPU that carried the stream (see streamCpu). */
  rateRatio: number;
  codepiperCpuSeconds: number;
  tmuxAloneCpuSeconds: number;
  cpuRatio: number;
  /** tmux's control mode alone on the same program: the most a stream fed by it, as ours is, could carry. */
  tmuxControlModeMBps: number;
}

/**
 * CPU seconds used so far by what carries a stream, not by the program that
 * prints it: the tmux server, the `cat`s it runs for pipe-pane, `readers`
 * (with their children) and this process (the last reader).
 */
function streamCpu(tmuxServer: number, readers: number[]): Map<number, number> {
  const pids = [tmuxServer, ...childProcesses(tmuxServer).filter((c) => c.name === 'cat').map((c) => c.pid)];
  for (const reader of readers) pids.push(reader, ...childProcesses(reader).map((c) => c.pid));
  const self = process.cpuUsage();
  return new Map([[process.pid, (self.user + self.system) / 1e6], ...pids.map((pid): [number, number] => [pid, cpuSeconds(pid)])]);
}

/** The CPU seconds used between two readings of streamCpu (a process that started meanwhile counts from zero). */
const cpuBetween = (before: Map<number, number>, after: Map<number, number>): number =>
  [...after].reduce((sum, [pid, seconds]) => sum + seconds - (before.get(pid) ?? 0), 0);

/** 50 MB takes seconds: a stream not ended after this long has stalled (its tmux server gone, say). */
const STALLED_MS = 120_000;

/** Counts bytes until `end` shows; resolves with the seconds it took from `begin()`, or fails once it has stalled. */
function timer(what: string, end = END + '\r\n'): { onData: (chunk: Buffer) => void; begin: () => void; done: Promise<number> } {
  let start = 0;
  let tail = '';
  let finish: (seconds: number) => void = () => undefined;
  let stall: (error: Error) => void = () => undefined;
  const done = new Promise<number>((resolve, reject) => {
    finish = resolve;
    stall = reject;
  });
  return {
    begin: () => {
      start = performance.now();
      const deadline = setTimeout(() => stall(new Error(`${what}: the stream stalled (no end marker after ${STALLED_MS / 1000} s)`)), STALLED_MS);
      void done.finally(() => clearTimeout(deadline)).catch(() => undefined);
    },
    onData: (chunk) => {
      // Only the end of each chunk: the reader should cost what reading costs, not the check.
      tail = (tail + chunk.subarray(-64).toString('latin1')).slice(-64);
      if (start && tail.includes(end)) finish((performance.now() - start) / 1000);
    },
    done,
  };
}

/** Lets the program of `tmux`'s session go once its reader is set up; resolves with the seconds until all has arrived, and the CPU the stream took. */
async function run(tmux: PlainTmux, reading: ReturnType<typeof timer>): Promise<Stream> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const server = Number(tmux.tmux('display-message', '-p', '#{pid}').trim());
  const before = streamCpu(server, []);
  reading.begin();
  tmux.tmux('send-keys', '-t', 'bench', 'go', 'Enter');
  const seconds = await reading.done;
  return { seconds, cpu: cpuBetween(before, streamCpu(server, [])) };
}

/** A session of ours prints the 50 MB to a WebSocket client of its terminal. */
async function throughOurs(daemon: TestDaemon): Promise<Stream> {
  const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', args: PROGRAM } });
  const reading = timer('through CodePiper');
  const { socket } = await openTerminal(daemon.client, session.id, { snapshot: false, onData: reading.onData });
  try {
    const server = Number(daemon.tmux(['display-message', '-p', '#{pid}']).stdout.trim());
    const daemonPid = daemon.process!.pid!;
    const before = streamCpu(server, [daemonPid]);
    reading.begin();
    await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });
    const seconds = await reading.done;
    return { seconds, cpu: cpuBetween(before, streamCpu(server, [daemonPid])) };
  } finally {
    socket.close();
    await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });
  }
}

/** A tmux of its own prints the 50 MB, read through `pipe-pane` (or its control mode). */
async function throughTmux(mode: 'pipe-pane' | 'control-mode'): Promise<Stream> {
  const tmux = new PlainTmux();
  try {
    // Control mode escapes the line end as octal.
    const reading = mode === 'pipe-pane' ? timer('tmux pipe-pane') : timer('tmux control mode', END + '\\015\\012');
    if (mode === 'pipe-pane') tmux.start(PROGRAM, reading.onData);
    else tmux.startControlled(PROGRAM, reading.onData);
    return await run(tmux, reading);
  } finally {
    tmux.dispose();
  }
}

const median = (values: number[]): number => distribution(values).p50;

export async function throughput(): Promise<ThroughputResult> {
  const mb = BYTES / (1024 * 1024);
  const daemon = await TestDaemon.start();
  try {
    const pairs: { ours: Stream; alone: Stream }[] = [];
    for (let i = 0; i < ROUNDS; i++) pairs.push({ ours: await throughOurs(daemon), alone: await throughTmux('pipe-pane') });
    const controlMode = await throughTmux('control-mode');
    const rounds = pairs.map(({ ours, alone }) => ({
      codepiperMBps: round(mb / ours.seconds, 1),
      tmuxAloneMBps: round(mb / alone.seconds, 1),
      rateRatio: round(alone.seconds / ours.seconds, 2),
      cpuRatio: round(ours.cpu / alone.cpu, 2),
    }));
    return {
      megabytes: mb,
      rounds,
      codepiperMBps: median(rounds.map((r) => r.codepiperMBps)),
      tmuxAloneMBps: median(rounds.map((r) => r.tmuxAloneMBps)),
      rateRatio: median(rounds.map((r) => r.rateRatio)),
      codepiperCpuSeconds: round(median(pairs.map((p) => p.ours.cpu)), 2),
      tmuxAloneCpuSeconds: round(median(pairs.map((p) => p.alone.cpu)), 2),
      cpuRatio: median(rounds.map((r) => r.cpuRatio)),
      tmuxControlModeMBps: round(mb / controlMode.seconds, 1),
    };
  } finally {
    await daemon.dispose();
  }
}
