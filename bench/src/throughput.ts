import { openTerminal, sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { PlainTmux } from './plain-tmux.js';
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
  /** tmux's control mode alone on the same program: the most a stream fed by it, as ours is, could carry. */
  tmuxControlModeMBps: number;
}

/** Counts bytes until `end` shows; resolves with the seconds it took from `begin()`. */
function timer(end = END + '\r\n'): { onData: (chunk: Buffer) => void; begin: () => void; done: Promise<number> } {
  let start = 0;
  let tail = '';
  let finish: (seconds: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));
  return {
    begin: () => (start = performance.now()),
    onData: (chunk) => {
      tail = (tail + chunk.toString('latin1')).slice(-64);
      if (start && tail.includes(end)) finish((performance.now() - start) / 1000);
    },
    done,
  };
}

/** Lets the program of `tmux`'s session go once its reader is set up; resolves with the seconds until all has arrived. */
async function run(tmux: PlainTmux, reading: ReturnType<typeof timer>): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  reading.begin();
  tmux.tmux('send-keys', '-t', 'bench', 'go', 'Enter');
  return reading.done;
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
    ours.begin();
    await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });
    const oursSeconds = await ours.done;
    socket.close();

    const theirs = timer();
    plain.start(PROGRAM, theirs.onData);
    const theirSeconds = await run(plain, theirs);
    // Control mode escapes the line end as octal.
    const control = timer(END + '\\015\\012');
    controlled.startControlled(PROGRAM, control.onData);
    const controlSeconds = await run(controlled, control);

    return { megabytes: mb, codepiperMBps: round(mb / oursSeconds, 1), tmuxAloneMBps: round(mb / theirSeconds, 1), tmuxControlModeMBps: round(mb / controlSeconds, 1) };
  } finally {
    plain.dispose();
    controlled.dispose();
    await daemon.dispose();
  }
}
