/** At most `limit` failed attempts per address within a sliding window; in memory (a restart forgets, the per-account lockout does not). */
export class AddressRateLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** The seconds this address must wait before its next attempt, or undefined if it may try now. */
  wait(address: string, now = Date.now()): number | undefined {
    const recent = this.recent(address, now);
    return recent.length >= this.limit ? Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000)) : undefined;
  }

  fail(address: string, now = Date.now()): void {
    this.failures.set(address, [...this.recent(address, now), now]);
    if (this.failures.size > 10_000) {
      for (const [key, times] of this.failures) if (times.every((t) => now - t >= this.windowMs)) this.failures.delete(key);
    }
  }

  private recent(address: string, now: number): number[] {
    return (this.failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
  }
}
