import { openTerminal, sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { PlainTmux } from './plain-tmux.js';
import { distribution, round, type Distribution } from './stats.js';

const KEYSTROKES = 500;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Measures keystroke → echo, one keystroke at a time, waiting for each echo. */
export async function measure(send: (char: string) => Promise<void>, nextEcho: () => Promise<void>, clearLine: () => Promise<void>): Promise<number[]> {
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
export function echoWaiter(): { onData: () => void; next: () => Promise<void> } {
  let pending: (() => void) | undefined;
  return {
    onData: () => {
      pending?.();
      pending = undefined;
    },
    next: () => new Promise<void>((resolve) => (pending = resolve)),
  };
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
    const ours = echoWaiter();
    const { socket } = await openTerminal(daemon.client, session.id, { snapshot: false, onData: ours.onData });
    const clearViaApi = async () => {
      const flushed = ours.next();
      await daemon.client.call(sessionEndpoints.keys, { params: { id: session.id }, body: { keys: ['ctrl+u'] } });
      await flushed;
    };
    const viaApi = await measure(
      (char) => daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: char, enter: false } }).then(() => undefined),
      ours.next,
      clearViaApi,
    );
    const viaSocket = await measure(async (char) => socket.send(JSON.stringify({ type: 'input', data: char })), ours.next, clearViaApi);
    socket.close();

    const theirs = echoWaiter();
    plain.start(['cat'], theirs.onData);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const alone = await measure((char) => plain.sendKeysProcess(char), theirs.next, async () => {
      const flushed = theirs.next();
      plain.tmux('send-keys', '-t', 'bench', 'C-u');
      await flushed;
    });

    const codepiper = distribution(viaApi);
    const tmuxAlone = distribution(alone);
    return { codepiper, codepiperWebSocketInput: distribution(viaSocket), tmuxAlone, ratioP50: round(codepiper.p50 / tmuxAlone.p50) };
  } finally {
    plain.dispose();
    await daemon.dispose();
  }
}
