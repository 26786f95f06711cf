import { messageOf } from './errors.js';
import { createKernel, type Kernel, type KernelOptions } from './kernel.js';

/** How a daemon's run ended: whether it is to start again (`POST /daemon/restart`), and where it listened on TCP. */
export interface DaemonEnd {
  restart: boolean;
  web: string | null;
}

/**
 * Runs the daemon until it is stopped (SIGINT, SIGTERM, or the API). If it
 * cannot start, says why on stderr and sets `process.exitCode` to 1.
 */
export async function runDaemon(options: KernelOptions): Promise<DaemonEnd> {
  const kernel = createKernel(options);
  try {
    await serve(kernel, options.foreground ?? false);
    return { restart: kernel.restartRequested, web: kernel.web };
  } catch (error) {
    process.stderr.write(`codepiper daemon: ${messageOf(error)}\n`);
    process.exitCode = 1;
    return { restart: false, web: null };
  }
}

async function serve(kernel: Kernel, foreground: boolean): Promise<void> {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      kernel.logger.warn(`${signal} again: exiting before the plugins have stopped`);
      process.exit(1);
    }
    stopping = true;
    void kernel.stop(signal);
  };
  // A plugin's stray error (a throwing event handler, a forgotten promise) is logged; the daemon carries on.
  const onUncaught = (error: unknown): void => kernel.logger.error({ err: error }, `uncaught exception: ${messageOf(error)}`);
  const onUnhandled = (reason: unknown): void => kernel.logger.error({ err: reason }, `unhandled rejection: ${messageOf(reason)}`);

  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  try {
    await kernel.start();
    if (foreground) {
      process.stderr.write(`codepiper daemon listening on ${kernel.paths.socket} (pid ${process.pid})\n`);
      if (kernel.web) process.stderr.write(`web: ${kernel.web}\n`);
    }
    await kernel.stopped;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  }
}
