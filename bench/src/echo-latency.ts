import { openTerminal, sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { PlainTmux } from './plain-tmux.js';
import { distribution, round, type Distribution } from './stats.js';

const KEYSTROKES = 500;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Measures keystroke → echo, one keystroke at a time, waiting for each echo. */
async function measure(send: (char: string) => Promise<void>, nextEcho: () => Promise<void>, clearLine: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    if (i % 50 === 49) await clearLine();
    const char = LETTERS[i % LETTERS.length]!;
    const echoed = nextEcho();
    const t0 = performance.now();
    await send(char);
    await echoed;
    samples.push(performance.now() - t0);
  }
  return samples;
}

/** Resolves on the next chunk of output. */
function echoWaiter(): { onData: () => void; next: () => Promise<void> } {
  let pending: (() => void) | undefined;
  return {
    onData: () => {
      pending?.();
      pending = undefined;
    },
    next: () => new Promise<void>((resolve) => (pending = resolve)),
  };
}

/**
 * Keystroke → echo through the daemon: typed with its input API, seen on the
 * session's terminal stream (opened `settleMs` before the first keystroke);
 * with `webSocketInput`, typed over that stream too. A line is cleared with
 * the keys API.
 */
export async function daemonEcho(daemon: TestDaemon, sessionId: string, options: { settleMs?: number; webSocketInput?: boolean } = {}): Promise<{ viaApi: number[]; viaSocket?: number[] }> {
  const echoes = echoWaiter();
  const { socket } = await openTerminal(daemon.client, sessionId, { snapshot: false, onData: echoes.onData });
  try {
    if (options.settleMs) await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    const clearLine = async () => {
      const flushed = echoes.next();
      await daemon.client.call(sessionEndpoints.keys, { params: { id: sessionId }, body: { keys: ['ctrl+u'] } });
      await flushed;
    };
    const viaApi = await measure((char) => daemon.client.call(sessionEndpoints.input, { params: { id: sessionId }, body: { text: char, enter: false } }).then(() => undefined), echoes.next, clearLine);
    if (!options.webSocketInput) return { viaApi };
    const viaSocket = await measure(async (char) => socket.send(JSON.stringify({ type: 'input', data: char })), echoes.next, clearLine);
    return { viaApi, viaSocket };
  } finally {
    socket.close();
  }
}

/** Keystroke → echo of `argv` in a plain tmux terminal (started `settleMs` before the first keystroke), a send-keys process per keystroke. */
export async function plainTmuxEcho(plain: PlainTmux, argv: readonly string[], settleMs: number): Promise<number[]> {
  const echoes = echoWaiter();
  plain.start([...argv], echoes.onData);
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  return measure((char) => plain.sendKeysProcess(char), echoes.next, async () => {
    const flushed = echoes.next();
    plain.tmux('send-keys', '-t', 'bench', 'C-u');
    await flushed;
  });
}

export interface EchoResult {
  codepiper: Distribution;
  codepiperWebSocketInput: Distribution;
  tmuxAlone: Distribution;
  ratioP50: number;
}

export async function echoLatency(): Promise<EchoResult> {
  const daemon = await TestDaemon.start();
  const plain = new PlainTmux();
  try {
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', args: ['cat'] } });
    const { viaApi, viaSocket = [] } = await daemonEcho(daemon, session.id, { webSocketInput: true });
    const alone = await plainTmuxEcho(plain, ['cat'], 300);
    const codepiper = distribution(viaApi);
    const tmuxAlone = distribution(alone);
    return { codepiper, codepiperWebSocketInput: distribution(viaSocket), tmuxAlone, ratioP50: round(codepiper.p50 / tmuxAlone.p50) };
  } finally {
    plain.dispose();
    await daemon.dispose();
  }
}
