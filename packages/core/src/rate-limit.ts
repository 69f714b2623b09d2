import type { RateLimitSpec } from './strategy.js';

/**
 * Paces a strategy's auth calls. The default is a sliding window in this process ({@link slidingWindowLimiter}); `@auth/redis-store` shares one across a fleet.
 *
 * @example
 * const unpaced: AuthLimiter = { schedule: (call) => call(), pause: () => {} };
 */
export interface AuthLimiter {
  /** Runs `call` when the budget allows. */
  schedule<T>(call: () => Promise<T>): Promise<T>;
  /** Holds every call back for `ms` (the server answered 429). */
  pause(ms: number): void;
  /**
   * Optional: how long calls are still held back by a `pause`, in ms (0 when not paused). The session
   * rejects with `RATE_LIMITED` at once instead of queueing when this exceeds `maxRetryAfterMs`.
   */
  pausedFor?(): number;
}

/**
 * Builds the limiter of a rate limit; the session's `limiter` option.
 *
 * @example
 * const perSession: AuthLimiterFactory = (spec) => slidingWindowLimiter(spec); // no sharing between sessions
 * createAuthSession(strategy, { limiter: perSession });
 */
export type AuthLimiterFactory = (spec: RateLimitSpec) => AuthLimiter;

/**
 * A sliding-window limit: `max` permits; a permit is returned one full window after its call
 * *finished*. The server sees each call somewhere between its start and its end, so no window of
 * `windowMs`, however aligned, can ever hold more than `max` calls, whatever the server's own
 * windowing. (A fixed refresh interval would allow up to 2×max across a boundary.) Calls wait for a
 * permit in the order they were scheduled. A counter and a queue: this needs none of Bottleneck's
 * scheduling, whose 23 KB (minified) every browser app would otherwise ship.
 *
 * @example
 * const limiter = slidingWindowLimiter({ key: 'acme', max: 5, windowMs: 60_000 });
 * const tokens = await limiter.schedule(() => strategy.login(ctx));
 */
export function slidingWindowLimiter(spec: RateLimitSpec): AuthLimiter {
  if (!(spec.max >= 1) || !(spec.windowMs > 0)) throw new RangeError(`rate limit ${spec.key}: max must be >= 1 and windowMs > 0`);
  let permits = Math.floor(spec.max);
  const queue: (() => void)[] = [];
  let pausedUntil = 0;
  // Permit-return timers keep the process alive only while some call is waiting for a permit, so a
  // script can exit right after its last auth call instead of a window later.
  const pending = new Set<ReturnType<typeof setTimeout>>();
  const setRef = (ref: boolean) => {
    for (const t of pending) (t as { ref?: () => void; unref?: () => void })[ref ? 'ref' : 'unref']?.();
  };
  const permit = (): Promise<void> | undefined => {
    if (permits > 0) {
      permits -= 1;
      return undefined;
    }
    if (queue.length === 0) setRef(true);
    return new Promise((resolve) => queue.push(resolve));
  };
  const giveBack = () => {
    const t = setTimeout(() => {
      pending.delete(t);
      const next = queue.shift();
      if (next === undefined) permits += 1;
      else {
        if (queue.length === 0) setRef(false);
        next();
      }
    }, spec.windowMs);
    pending.add(t);
    if (queue.length === 0) unref(t);
  };
  return {
    async schedule(call) {
      await permit();
      try {
        for (let wait = pausedUntil - Date.now(); wait > 0; wait = pausedUntil - Date.now()) await delay(wait);
        return await call();
      } finally {
        giveBack();
      }
    },
    pause(ms) {
      pausedUntil = Math.max(pausedUntil, Date.now() + ms);
    },
    pausedFor() {
      return Math.max(0, pausedUntil - Date.now());
    },
  };
}

// One budget per key, shared by every session of this process that declares it. Kept on globalThis
// so that two copies of this package in one process (its ESM and CJS builds, say) share it too
// instead of each granting the full budget.
const registryKey = Symbol.for('@auth/core:rate-limit-budgets');
const shared: Map<string, { spec: RateLimitSpec; limiter: AuthLimiter }> = ((globalThis as Record<symbol, unknown>)[registryKey] ??= new Map()) as Map<string, { spec: RateLimitSpec; limiter: AuthLimiter }>;

/**
 * The default factory: one {@link slidingWindowLimiter} per `spec.key` in this process.
 *
 * @example
 * const spec = { key: 'acme:alice', max: 5, windowMs: 60_000 };
 * sharedLimiter(spec) === sharedLimiter({ ...spec }); // true: one budget per key
 */
export const sharedLimiter: AuthLimiterFactory = (spec) => {
  const found = shared.get(spec.key);
  if (found && found.spec.max === spec.max && found.spec.windowMs === spec.windowMs) return found.limiter;
  // Same key, different numbers: the later declaration wins for new sessions; older sessions keep theirs.
  const limiter = slidingWindowLimiter(spec);
  shared.set(spec.key, { spec: { ...spec }, limiter });
  return limiter;
};

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Node keeps a process alive for pending timers; a pacing timer must not. */
export function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
