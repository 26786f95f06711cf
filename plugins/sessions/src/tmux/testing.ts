/* Helpers for the tmux tests (real tmux, temporary private servers). */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Logger } from '@codepiper/sdk';
import { waitFor as kitWaitFor } from '@codepiper/sdk/testing';
import { TmuxServer, type TmuxEvents } from './server.js';

/** A logger that prints warnings and errors only when CP_TEST_LOG is set. */
export function testLogger(): Logger {
  const verbose = Boolean(process.env.CP_TEST_LOG);
  const print =
    (level: string) =>
    (fields: Record<string, unknown> | string, message?: string): void => {
      if (verbose) console.error(`[${level}]`, typeof fields === 'string' ? fields : `${message ?? ''} ${JSON.stringify(fields)}`);
    };
  const noop = (): void => undefined;
  const log: Logger = {
    trace: noop,
    debug: verbose ? print('debug') : noop,
    info: noop,
    warn: print('warn'),
    error: print('error'),
    fatal: print('fatal'),
    child: () => log,
  };
  return log;
}

export interface TestServer {
  server: TmuxServer;
  dir: string;
  socketPath: string;
  /** Runs a one-shot tmux client on the test server. */
  tmux(...args: string[]): Promise<string>;
  /** Closes the server object, kills the tmux server and removes the directory. */
  cleanup(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  // Short path: Unix socket paths are limited to about 100 bytes.
  const dir = await mkdtemp('/tmp/cpt-');
  const socketPath = `${dir}/s`;
  const server = await TmuxServer.open({ socketPath, log: testLogger() });
  const tmux = (...args: string[]): Promise<string> => runTmux(socketPath, ...args);
  return {
    server,
    dir,
    socketPath,
    tmux,
    async cleanup() {
      await server.close();
      await tmux('kill-server').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function runTmux(socketPath: string, ...args: string[]): Promise<string> {
  const env = { ...process.env };
  delete env.TMUX;
  delete env.TMUX_PANE;
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-S', socketPath, ...args], { env, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(stderr || error.message));
      else resolve(stdout);
    });
  });
}

/** The test kit's `waitFor`, with the 15 s a tmux wait may need on a busy machine by default. */
export function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  return kitWaitFor(what, probe, timeoutMs);
}

/** Resolves with the first event matching `match`. */
export function nextEvent<K extends keyof TmuxEvents>(
  server: TmuxServer,
  event: K,
  match: (payload: TmuxEvents[K]) => boolean,
  timeoutMs = 5000,
): Promise<TmuxEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = server.on(event, (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}
