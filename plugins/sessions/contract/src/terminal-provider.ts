import type { TObject } from '@sinclair/typebox';
import type { LaunchSpec, SessionProvider, SessionTerminal, StartSessionInput } from './sessions.js';

/**
 * Types text, then (if `submit`) presses Enter. Agent TUIs read a burst of
 * text followed at once by Enter as a paste, so `settleMs` pauses between.
 */
export async function typeText(terminal: SessionTerminal, text: string, options: { submit: boolean; settleMs?: number }): Promise<void> {
  if (text) await terminal.typeText(text);
  if (!options.submit) return;
  if (text && options.settleMs) await new Promise((resolve) => setTimeout(resolve, options.settleMs));
  await terminal.pressKeys(['enter']);
}

/**
 * Resolves once the screen matches `ready` (an agent has drawn its input
 * line), or after `timeoutMs` in any case; false then. For a first input
 * only: text typed before an agent TUI reads its terminal can be lost.
 */
export async function waitForScreen(terminal: SessionTerminal, ready: RegExp, timeoutMs: number, pollMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = await terminal.screen().catch(() => undefined);
    if (!screen || ready.test(screen.text)) return screen !== undefined;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export interface TerminalProviderSpec {
  id: string;
  description: string;
  options?: TObject;
  /** The program to run for a session; `input.args` holds what the user gave after `--`. */
  command(input: StartSessionInput): LaunchSpec | Promise<LaunchSpec>;
  /** Ends the program gracefully; SIGHUP by default, what closing a terminal sends. */
  stopSignal?: 'SIGHUP' | 'SIGTERM' | 'SIGINT';
  onEvent?: SessionProvider['onEvent'];
  /** See `SessionProvider.idleAfterMs`: status from output settling, for agents without hooks. */
  idleAfterMs?: number;
}

/**
 * A provider for a program known only through its terminal: text is typed,
 * Enter submits, keys are pressed, a signal ends it. Richer providers
 * (Claude Code, Codex) implement `SessionProvider` themselves.
 */
export function createTerminalProvider(spec: TerminalProviderSpec): SessionProvider {
  return {
    id: spec.id,
    description: spec.description,
    options: spec.options,
    async startSession(input, launcher) {
      await launcher.launch(await spec.command(input));
    },
    sendText: (terminal, text, submit) => typeText(terminal, text, { submit }),
    async sendKeys(terminal, keys) {
      await terminal.pressKeys(keys);
    },
    async stopSession(terminal) {
      await terminal.signal(spec.stopSignal ?? 'SIGHUP');
    },
    onEvent: spec.onEvent,
    idleAfterMs: spec.idleAfterMs,
  };
}
