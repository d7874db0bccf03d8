/**
 * Counts failures per key (a remote address) in fixed windows. Past the limit the key is
 * refused until its window ends. In memory, per API process: it protects each process from
 * being made to hash bodies for a flood of forged requests, not the fleet as a whole.
 */
export class FailureLimiter {
  private windows = new Map<string, { startedAt: number; failures: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    /** Bounds memory under a flood from many addresses: old windows are swept past this. */
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds until the key may try again, or 0 when it is not limited. */
  retryAfterSeconds(key: string, now = Date.now()): number {
    const window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.windowMs || window.failures < this.limit) return 0;
    return Math.ceil((window.startedAt + this.windowMs - now) / 1000);
  }

  recordFailure(key: string, now = Date.now()): void {
    const window = this.windows.get(key);
    if (window && now - window.startedAt < this.windowMs) {
      window.failures += 1;
      return;
    }
    if (this.windows.size >= this.maxKeys) this.sweep(now);
    this.windows.set(key, { startedAt: now, failures: 1 });
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.startedAt >= this.windowMs) this.windows.delete(key);
    }
    // Still full: every key is in a live window; forget the oldest rather than grow.
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
  }
}
