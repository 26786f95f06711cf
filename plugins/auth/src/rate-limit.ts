/** At most `limit` attempts per address within a sliding window; in memory (a restart forgets, the per-account lockout does not). */
export class AddressRateLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts an attempt; the seconds to wait when over the limit, else undefined. */
  hit(address: string, now = Date.now()): number | undefined {
    const recent = (this.attempts.get(address) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      this.attempts.set(address, recent);
      return Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
    }
    recent.push(now);
    this.attempts.set(address, recent);
    this.forgetOld(now);
    return undefined;
  }

  private forgetOld(now: number): void {
    if (this.attempts.size < 10_000) return;
    for (const [address, times] of this.attempts) if (times.every((t) => now - t >= this.windowMs)) this.attempts.delete(address);
  }
}
