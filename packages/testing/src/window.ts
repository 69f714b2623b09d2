/**
 * Timestamps of calls, to answer "how many in the last window" (the server's limiter) and "the most
 * ever seen in any window of this length" (what tests assert against the limit).
 *
 * @example
 * const window = new CallWindow(60_000);
 * if (window.countRecent(Date.now()) >= 20) return tooMany();
 * window.record(Date.now());
 * window.maxInAnyWindow; // what a test asserts against the limit
 */
export class CallWindow {
  readonly #times: number[] = [];
  #maxInWindow = 0;

  constructor(readonly windowMs: number) {}

  /** Calls within the window that ends now. */
  countRecent(now: number): number {
    let n = 0;
    for (let i = this.#times.length - 1; i >= 0 && this.#times[i]! > now - this.windowMs; i -= 1) n += 1;
    return n;
  }

  /** ms until the oldest call in the current window leaves it. */
  msUntilFree(now: number, max: number): number {
    const recent = this.#times.filter((t) => t > now - this.windowMs);
    if (recent.length < max) return 0;
    return Math.max(1, recent[recent.length - max]! + this.windowMs - now);
  }

  record(now: number): void {
    this.#times.push(now);
    this.#maxInWindow = Math.max(this.#maxInWindow, this.countRecent(now));
    // Keep memory bounded: drop what no window can reach any more.
    while (this.#times.length > 0 && this.#times[0]! <= now - this.windowMs) this.#times.shift();
  }

  /** The largest number of calls seen in any window of `windowMs` (sliding, so it is the strictest count). */
  get maxInAnyWindow(): number {
    return this.#maxInWindow;
  }

  reset(): void {
    this.#times.length = 0;
    this.#maxInWindow = 0;
  }
}
