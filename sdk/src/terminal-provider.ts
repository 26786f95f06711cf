import type { TObject } from '@sinclair/typebox';
import type { LaunchSpec, SessionProvider, StartSessionInput } from './sessions.js';

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
    async sendText(terminal, text, submit) {
      if (text) await terminal.typeText(text);
      if (submit) await terminal.pressKeys(['enter']);
    },
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
