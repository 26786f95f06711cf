/**
 * Why a step stopped before it finished, carried as an AbortSignal's reason:
 * - `cancel`: the user cancelled the run, or a sibling in a `parallel` won or
 *   failed; the step is recorded as cancelled.
 * - `shutdown`: the daemon is stopping; nothing is recorded, so the step
 *   resumes at the next start.
 * - `timeout`: the step's own `timeout` passed; the step failed (and may be retried).
 */
export class Interruption extends Error {
  override readonly name = 'Interruption';
  constructor(
    readonly kind: 'cancel' | 'shutdown' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A step's failure; `outputs` are still readable by later steps when it has `on_error: continue`. */
export class StepFailure extends Error {
  override readonly name = 'StepFailure';
  constructor(
    message: string,
    readonly outputs: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
