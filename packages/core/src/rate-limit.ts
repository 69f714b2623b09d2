import type BottleneckType from 'bottleneck';
import { loadBottleneck } from './bottleneck.js';
import { RateLimitedError } from './errors.js';
import { abortReason, sleep } from './sleep.js';
import type { RateLimitSpec } from './strategy.js';

/**
 * How one call waits in an {@link AuthLimiter}.
 *
 * @example
 * await limiter.schedule(() => strategy.login(ctx), { signal, maxPauseMs: 120_000 });
 */
export interface ScheduleOptions {
  /** Ends the wait (for a permit, or out a pause) with `ABORTED` ({@link abortReason}); the call is then never made. */
  signal?: AbortSignal | undefined;
  /**
   * Longest pause (a server's 429) this call waits out. A longer one, whether it was set before the
   * call was queued or while it waited, rejects it with `RATE_LIMITED` at once. Default: no limit.
   */
  maxPauseMs?: number | undefined;
}

/**
 * Paces a strategy's auth calls. The default is Bottleneck in this process; `@auth/redis-store` shares one across a
 * fleet.
 *
 * @example
 * const unpaced: AuthLimiter = { schedule: (call) => call(), pause: () => {} };
 */
export interface AuthLimiter {
  /** Runs `call` when the budget allows (limiters written before `options` existed may ignore them). */
  schedule<T>(call: () => Promise<T>, options?: ScheduleOptions): Promise<T>;
  /** Holds every call back for `ms` (the server answered 429), at most {@link MAX_PAUSE_MS}. */
  pause(ms: number): void;
  /**
   * Optional: how long calls are still held back by a `pause`, in ms (0 when not paused), as far as
   * this process knows. The session rejects with `RATE_LIMITED` at once instead of queueing when this
   * exceeds `maxRetryAfterMs`.
   */
  pausedFor?(): number;
}

/**
 * The longest a 429 pauses a budget: 1 hour. A server asking for more (a daily quota, or a broken
 * `Retry-After` of years) is asked again after an hour, by one call, instead of the account being
 * locked out for as long as the header says.
 */
export const MAX_PAUSE_MS = 60 * 60_000;

/**
 * Builds the limiter of a rate limit; the session's `limiter` option.
 *
 * @example
 * const perSession: AuthLimiterFactory = (spec) => slidingWindowLimiter(spec); // no sharing between sessions
 * createAuthSession(strategy, { limiter: perSession });
 */
export type AuthLimiterFactory = (spec: RateLimitSpec) => AuthLimiter;

/**
 * A sliding-window limit on Bottleneck (loaded with the first call): the reservoir holds `max` permits; a permit is
 * returned one
 * full window after its call *finished*. The server sees each call somewhere between its start and
 * its end, so no window of `windowMs`, however aligned, can ever hold more than `max` calls, whatever
 * the server's own windowing. (A fixed refresh interval would allow up to 2×max across a boundary.)
 *
 * @example
 * const limiter = slidingWindowLimiter({ key: 'acme', max: 5, windowMs: 60_000 });
 * const tokens = await limiter.schedule(() => strategy.login(ctx));
 */
export function slidingWindowLimiter(spec: RateLimitSpec): AuthLimiter {
  if (!(spec.max >= 1) || !(spec.windowMs > 0))
    throw new RangeError(`rate limit ${spec.key}: max must be >= 1 and windowMs > 0`);
  // Made with the first call; every call waits for the same promise, so they reach it in order.
  let made: Promise<BottleneckType> | undefined;
  let bottleneck: BottleneckType | undefined;
  const limiter = () =>
    (made ??= loadBottleneck().then(
      (B) => (bottleneck = new B({ reservoir: Math.floor(spec.max), maxConcurrent: null, id: spec.key })),
    ));
  const pause = new Pause();
  // Permit-return timers keep the process alive only while some call is waiting for a permit, so a
  // script can exit right after its last auth call instead of a window later.
  const pending = new Set<ReturnType<typeof setTimeout>>();
  let waiting = 0;
  const setRef = (ref: boolean) => {
    for (const t of pending) (t as { ref?: () => void; unref?: () => void })[ref ? 'ref' : 'unref']?.();
  };
  const giveBack = (after: number) => {
    if (after <= 0) return void bottleneck!.incrementReservoir(1);
    const t = setTimeout(() => {
      pending.delete(t);
      void bottleneck!.incrementReservoir(1);
    }, after);
    pending.add(t);
    if (waiting === 0) unref(t);
  };
  return {
    schedule(call, { signal, maxPauseMs = Number.POSITIVE_INFINITY } = {}) {
      return new Promise((resolve, reject) => {
        // Fires when this caller left the queue (gave up); its job then returns the permit unused.
        const out = new AbortController();
        const check = () => {
          if (out.signal.aborted) return;
          const paused = pause.left();
          const error = signal?.aborted
            ? abortReason(signal)
            : paused > maxPauseMs
              ? pausedError(spec.key, paused, maxPauseMs)
              : undefined;
          if (!error) return;
          out.abort();
          stopWatching();
          reject(error);
        };
        // Waiting for a permit or out a pause, a caller is checked again whenever the pause grows.
        const unwatch = pause.watch(check);
        const stopWatching = () => {
          unwatch();
          signal?.removeEventListener('abort', check);
        };
        signal?.addEventListener('abort', check, { once: true });
        check();
        if (out.signal.aborted) return;
        waiting += 1;
        setRef(true);
        limiter()
          .then((b) =>
            b.schedule(async () => {
              waiting -= 1;
              if (waiting === 0) setRef(false);
              try {
                for (let left = pause.left(); left > 0 && !out.signal.aborted; left = pause.left())
                  await sleep(left, out.signal);
              } catch {
                // gave up while paused
              }
              if (out.signal.aborted) return giveBack(0);
              stopWatching();
              try {
                resolve(await call());
              } catch (error) {
                reject(error);
              } finally {
                giveBack(spec.windowMs);
              }
            }),
          )
          .catch(reject);
      });
    },
    pause: (ms) => pause.extend(ms),
    pausedFor: () => pause.left(),
  };
}

/** A budget's 429 pause in this process; watchers hear of every extension. */
class Pause {
  #until = 0;
  readonly #watchers = new Set<() => void>();

  left(): number {
    return Math.max(0, this.#until - Date.now());
  }

  extend(ms: number): void {
    const until = Date.now() + Math.min(Math.max(0, ms), MAX_PAUSE_MS);
    if (!(until > this.#until)) return;
    this.#until = until;
    for (const watcher of [...this.#watchers]) watcher();
  }

  watch(watcher: () => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }
}

/**
 * The error for a call that would wait out a pause longer than it accepts.
 *
 * @example
 * throw pausedError('acme:alice', 3_600_000, 120_000);
 */
export function pausedError(key: string, pausedMs: number, maxPauseMs: number): RateLimitedError {
  return new RateLimitedError(
    `auth calls for "${key}" are paused for ${Math.ceil(pausedMs)} ms after the server's 429, longer than the ${maxPauseMs} ms this call waits`,
    {
      retryAfterMs: Math.ceil(pausedMs),
      status: undefined,
    },
  );
}

// One budget per key, shared by every session of this process that declares it. Kept on globalThis
// so that two copies of this package in one process (its ESM and CJS builds, say) share it too
// instead of each granting the full budget.
const registryKey = Symbol.for('@auth/core:rate-limit-budgets');
const shared: Map<string, { spec: RateLimitSpec; limiter: AuthLimiter }> = ((globalThis as Record<symbol, unknown>)[
  registryKey
] ??= new Map()) as Map<string, { spec: RateLimitSpec; limiter: AuthLimiter }>;

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

/** Node keeps a process alive for pending timers; a pacing timer must not. */
export function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
