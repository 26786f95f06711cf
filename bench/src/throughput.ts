import { openTerminal, sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { PlainTmux } from './plain-tmux.js';
import { childProcesses, cpuSeconds } from './proc.js';
import { round } from './stats.js';

const BYTES = 50 * 1024 * 1024;
const END = 'BENCH-END';
/**
 * Waits for a line on stdin, prints BYTES of 80-column lines, then the end
 * marker, then stays: tmux drops output a watcher has not yet received when
 * the program exits, and this measures throughput, not exit.
 */
const PROGRAM = ['sh', '-c', `read go; yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678 | head -c ${BYTES}; echo ${END}; exec sleep 600`];

export interface ThroughputResult {
  megabytes: number;
  codepiperMBps: number;
  tmuxAloneMBps: number;
  /** Ours against tmux alone (`pipe-pane`): the rate, and the CPU that carried the stream (see streamCpu). */
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

/** Counts bytes until `end` shows; resolves with the seconds it took from `begin()`. */
function timer(end = END + '\r\n'): { onData: (chunk: Buffer) => void; begin: () => void; done: Promise<number> } {
  let start = 0;
  let tail = '';
  let finish: (seconds: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));
  return {
    begin: () => (start = performance.now()),
    onData: (chunk) => {
      // Only the end of each chunk: the reader should cost what reading costs, not the check.
      tail = (tail + chunk.subarray(-64).toString('latin1')).slice(-64);
      if (start && tail.includes(end)) finish((performance.now() - start) / 1000);
    },
    done,
  };
}

/** Lets the program of `tmux`'s session go once its reader is set up; resolves with the seconds until all has arrived, and the CPU the stream took. */
async function run(tmux: PlainTmux, reading: ReturnType<typeof timer>): Promise<{ seconds: number; cpu: number }> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const server = Number(tmux.tmux('display-message', '-p', '#{pid}').trim());
  const before = streamCpu(server, []);
  reading.begin();
  tmux.tmux('send-keys', '-t', 'bench', 'go', 'Enter');
  const seconds = await reading.done;
  return { seconds, cpu: cpuBetween(before, streamCpu(server, [])) };
}

export async function throughput(): Promise<ThroughputResult> {
  const mb = BYTES / (1024 * 1024);
  const daemon = await TestDaemon.start();
  const plain = new PlainTmux();
  const controlled = new PlainTmux();
  try {
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', args: PROGRAM } });
    const ours = timer();
    const { socket } = await openTerminal(daemon.client, session.id, { snapshot: false, onData: ours.onData });
    const server = Number(daemon.tmux(['display-message', '-p', '#{pid}']).stdout.trim());
    const daemonPid = daemon.process!.pid!;
    const before = streamCpu(server, [daemonPid]);
    ours.begin();
    await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });
    const oursSeconds = await ours.done;
    const oursCpu = cpuBetween(before, streamCpu(server, [daemonPid]));
    socket.close();

    const theirs = timer();
    plain.start(PROGRAM, theirs.onData);
    const alone = await run(plain, theirs);
    // Control mode escapes the line end as octal.
    const control = timer(END + '\\015\\012');
    controlled.startControlled(PROGRAM, control.onData);
    const controlMode = await run(controlled, control);

    return {
      megabytes: mb,
      codepiperMBps: round(mb / oursSeconds, 1),
      tmuxAloneMBps: round(mb / alone.seconds, 1),
      rateRatio: round(alone.seconds / oursSeconds, 2),
      codepiperCpuSeconds: round(oursCpu, 2),
      tmuxAloneCpuSeconds: round(alone.cpu, 2),
      cpuRatio: round(oursCpu / alone.cpu, 2),
      tmuxControlModeMBps: round(mb / controlMode.seconds, 1),
    };
  } finally {
    plain.dispose();
    controlled.dispose();
    await daemon.dispose();
  }
}
