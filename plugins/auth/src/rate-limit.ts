import ipaddr from 'ipaddr.js';

/**
 * Who an attempt is counted against: an IPv4 address as is (an IPv4-mapped
 * IPv6 one too), any other IPv6 address by its /64, which one host usually
 * has whole; anything unparsable as given.
 */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const ip = ipaddr.process(address);
  if (ip instanceof ipaddr.IPv4) return ip.toString();
  return `${new ipaddr.IPv6([...ip.parts.slice(0, 4), 0, 0, 0, 0]).toString()}/64`;
}

/** An admitted attempt: settle it once its check is done. */
export interface AttemptTicket {
  readonly key: string;
  /**
   * Ends the attempt. A failed check stays counted in the window; a success,
   * or a refusal that checked nothing, is taken back. Only the first call counts.
   */
  settle(failed: boolean): void;
}

/** Admitted with a ticket, or refused: another attempt from the key is still being checked (`busy`), or the window is full. */
export type Admission = { admitted: true; ticket: AttemptTicket } | { admitted: false; busy: boolean; retryAfterSeconds: number };

/**
 * At most `limit` attempts per address key within a sliding window, counted
 * as they arrive, and one at a time; in memory (a restart forgets, the
 * account's lockout does not).
 */
export class AddressRateLimiter {
  private readonly attempts = new Map<string, number[]>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Admits an attempt that arrives now from `address`, or says how many seconds to wait. */
  begin(address: string, now = Date.now()): Admission {
    const key = addressKey(address);
    // Until the attempt in flight is checked, whether it failed is unknown: one at a time.
    if (this.inFlight.has(key)) return { admitted: false, busy: true, retryAfterSeconds: 1 };
    const recent = this.recent(key, now);
    if (recent.length >= this.limit) return { admitted: false, busy: false, retryAfterSeconds: Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000)) };
    this.attempts.set(key, [...recent, now]);
    this.inFlight.add(key);
    this.forgetIdle(now);
    return { admitted: true, ticket: this.ticket(key, now) };
  }

  private ticket(key: string, startedAt: number): AttemptTicket {
    let settled = false;
    return {
      key,
      settle: (failed) => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(key);
        if (!failed) this.takeBack(key, startedAt);
      },
    };
  }

  private takeBack(key: string, startedAt: number): void {
    const times = this.attempts.get(key) ?? [];
    const index = times.indexOf(startedAt);
    if (index !== -1) this.attempts.set(key, times.toSpliced(index, 1));
  }

  private recent(key: string, now: number): number[] {
    return (this.attempts.get(key) ?? []).filter((t) => now - t < this.windowMs);
  }

  /** Keeps the map small when many addresses come and go. */
  private forgetIdle(now: number): void {
    if (this.attempts.size <= 10_000) return;
    for (const key of this.attempts.keys()) {
      if (!this.inFlight.has(key) && this.recent(key, now).length === 0) this.attempts.delete(key);
    }
  }
}
