import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/events-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { TestDaemon } from '@codepiper/tests/harness';
import { PlainTmux } from './plain-tmux.js';
import { distribution, round, type Distribution } from './stats.js';

const EXITS = 40;

/** A program that waits for a line, writes the time (ns) it exits at, and exits. */
const exitingProgram = (stamp: string): string[] => ['sh', '-c', `read go; date +%s%N > '${stamp}'; exit 3`];
/**
 * The time a program wrote (ms), once it is all there. `nudge` runs each
 * 250 ms meanwhile: tmux built with libutempter can miss a program's SIGCHLD,
 * leaving the pane dead without its hook until something makes it reap.
 */
async function stampedMs(file: string, nudge?: () => void): Promise<number> {
  for (let waited = 0; ; waited += 5) {
    if (nudge && waited > 0 && waited % 250 === 0) nudge();
    const text = (() => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    })();
    if (text.endsWith('\n')) return Number(text.trim()) / 1e6;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface ExitNoticedResult {
  codepiper: Distribution;
  /** tmux's own `pane-died` hook, run as a command by tmux: the floor. */
  tmuxHook: Distribution;
  ratioP50: number;
  ratioP95: number;
}

/**
 * From a program's exit to the daemon's `session.exited` event, against tmux
 * running a `pane-died` hook itself. Times are wall-clock: both sides read
 * the same clock.
 */
export async function exitNoticed(): Promise<ExitNoticedResult> {
  const dir = mkdtempSync('/tmp/cpb-exit-');
  const daemon = await TestDaemon.start();
  const plain = new PlainTmux();
  try {
    const exitedAt = new Map<string, number>();
    const socket = await daemon.client.openSocket(eventEndpoints.stream, { query: { type: 'session.exited' } }, (data) => {
      const event = JSON.parse(data.toString('utf8')) as CodePiperEvent;
      if (event.sessionId) exitedAt.set(event.sessionId, Date.now());
    });
    const ours: number[] = [];
    for (let i = 0; i < EXITS; i++) {
      const stamp = path.join(dir, `ours-${i}`);
      const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: dir, args: exitingProgram(stamp) } });
      await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });
      while (!exitedAt.has(session.id)) await new Promise((resolve) => setTimeout(resolve, 5));
      ours.push(exitedAt.get(session.id)! - (await stampedMs(stamp)));
    }
    socket.close();

    const hook: number[] = [];
    let reap = (): void => undefined;
    for (let i = 0; i < EXITS; i++) {
      const stamp = path.join(dir, `tmux-${i}`);
      const noticed = path.join(dir, `tmux-noticed-${i}`);
      const name = `exit${i}`;
      plain.tmux('new-session', '-d', '-s', name, ...exitingProgram(stamp), ';', 'set-option', '-t', name, 'remain-on-exit', 'on');
      const serverPid = Number(plain.tmux('display-message', '-p', '#{pid}'));
      reap = () => process.kill(serverPid, 'SIGCHLD');
      plain.tmux('set-hook', '-t', name, 'pane-died', `run-shell "date +%s%N > '${noticed}'"`);
      plain.tmux('send-keys', '-t', name, 'go', 'Enter');
      hook.push((await stampedMs(noticed, reap)) - (await stampedMs(stamp)));
    }
    const codepiper = distribution(ours);
    const tmuxHook = distribution(hook);
    return { codepiper, tmuxHook, ratioP50: round(codepiper.p50 / tmuxHook.p50), ratioP95: round(codepiper.p95 / tmuxHook.p95) };
  } finally {
    plain.dispose();
    await daemon.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
