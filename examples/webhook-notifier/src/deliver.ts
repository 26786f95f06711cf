import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@codepiper/sdk';

export interface DeliveryOptions {
  url: string;
  headers: Record<string, string>;
  /** Attempts after the first. */
  retries: number;
  /** The wait before the first retry; it doubles after each. */
  backoffMs: number;
  timeoutMs: number;
  /** Aborts waits and requests when the daemon stops. */
  signal: AbortSignal;
  log: Logger;
}

/** A client error other than these will not get better by asking again. */
const retryable = (status: number): boolean => status >= 500 || status === 408 || status === 429;

export interface DeliveryOutcome {
  delivered: boolean;
  attempts: number;
  /** Why the last attempt failed. */
  error: string | null;
}

/**
 * POSTs `body` as JSON until the webhook answers 2xx, retrying network
 * errors, timeouts and retryable statuses with exponential backoff. Every
 * attempt carries the same `x-codepiper-event` id, so the receiver can drop
 * duplicates. Never rejects.
 */
export async function deliver(id: number, body: unknown, options: DeliveryOptions): Promise<DeliveryOutcome> {
  const payload = JSON.stringify(body);
  for (let attempt = 1; ; attempt++) {
    let failure: string;
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json', 'x-codepiper-event': String(id), 'x-codepiper-attempt': String(attempt) },
        body: payload,
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      await response.arrayBuffer();
      if (response.ok) return { delivered: true, attempts: attempt, error: null };
      failure = `HTTP ${response.status}`;
      if (!retryable(response.status)) attempt = options.retries + 1;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    const gaveUp = { delivered: false, attempts: attempt, error: failure };
    if (options.signal.aborted) return gaveUp;
    if (attempt > options.retries) {
      options.log.error({ event: id, attempts: attempt, url: options.url }, `webhook delivery gave up after ${attempt} attempts: ${failure}`);
      return gaveUp;
    }
    const wait = options.backoffMs * 2 ** (attempt - 1);
    options.log.warn({ event: id, attempt, url: options.url }, `webhook delivery failed (${failure}); retrying in ${wait} ms`);
    try {
      await sleep(wait, undefined, { signal: options.signal });
    } catch {
      return gaveUp;
    }
  }
}
