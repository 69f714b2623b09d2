import type BottleneckTypes from 'bottleneck';
import { loadBottleneck } from './bottleneck.js';
import { AbortedError } from './errors.js';
import { parseRetryAfter } from './http.js';
import { sleep } from './sleep.js';

// What the HTTP adapters share to pace API requests: a Bottleneck (or compatible) limiter that an
// aborted request leaves at once, and bounded waiting on an API's 429 `Retry-After`.

/**
 * How API answers of 429 are retried by the adapters.
 *
 * @example
 * const retry: RateLimitRetryOptions = { retries: 3, maxRetryAfterMs: 10_000, fallbackMs: 2_000 };
 */
export interface RateLimitRetryOptions {
  /** Extra attempts after a 429. Default 2. */
  retries?: number;
  /** Longest `Retry-After` waited out; a longer one hands the 429 to the caller. Default 30 s. */
  maxRetryAfterMs?: number;
  /** Wait after a 429 without `Retry-After`. Default 1 s. */
  fallbackMs?: number;
}

/**
 * {@link RateLimitRetryOptions} with every default filled in.
 *
 * @example
 * const policy: RetryPolicy | undefined = toRetryPolicy(options.retry); // undefined when options.retry is false
 */
export interface RetryPolicy {
  retries: number;
  maxRetryAfterMs: number;
  fallbackMs: number;
}

/**
 * `false` turns retrying off.
 *
 * @example
 * toRetryPolicy({ retries: 1 }); // { retries: 1, maxRetryAfterMs: 30_000, fallbackMs: 1_000 }
 */
export function toRetryPolicy(option: RateLimitRetryOptions | false | undefined): RetryPolicy | undefined {
  if (option === false) return undefined;
  return {
    retries: option?.retries ?? 2,
    maxRetryAfterMs: option?.maxRetryAfterMs ?? 30_000,
    fallbackMs: option?.fallbackMs ?? 1_000,
  };
}

/**
 * ms to wait before retrying a 429, or `undefined` when the server asks for more than allowed.
 *
 * @example
 * rateLimitWait(toRetryPolicy({})!, response.headers.get('retry-after'));
 */
export function rateLimitWait(policy: RetryPolicy, retryAfter: string | null | undefined): number | undefined {
  const ms = parseRetryAfter(retryAfter) ?? policy.fallbackMs;
  return ms <= policy.maxRetryAfterMs ? ms : undefined;
}

/**
 * Waits `ms`, rejecting at once with `ABORTED` when `signal` fires.
 *
 * @example
 * await waitUnlessAborted(1_000, request.signal);
 */
export function waitUnlessAborted(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  // sleep chains timers: a plain setTimeout of more than 2^31 - 1 ms (a Retry-After of 25+ days) fires at once.
  return sleep(ms, signal).catch(() => {
    throw new AbortedError('aborted while waiting to retry after HTTP 429', { operation: 'request', status: 429 });
  });
}

/**
 * Anything with Bottleneck's `schedule(fn)`: a `Bottleneck` instance (shared with other code if you
 * like), or a limiter of your own.
 *
 * @example
 * import Bottleneck from 'bottleneck';
 * const limiter: RequestLimiter = new Bottleneck({ maxConcurrent: 5, minTime: 20 });
 */
export interface RequestLimiter {
  schedule<R>(fn: () => PromiseLike<R>): Promise<R>;
}

/**
 * A limiter, or the settings of a new `Bottleneck`.
 *
 * @example
 * const perSecond: LimiterOption = { reservoir: 50, reservoirRefreshAmount: 50, reservoirRefreshInterval: 1_000 };
 */
export type LimiterOption = RequestLimiter | BottleneckTypes.ConstructorOptions;

/**
 * The limiter an adapter option describes (`undefined`: no limiter). Settings build a `Bottleneck`
 * (its light build), loaded on the first request: an app that passes no settings never loads it, and
 * a browser app's bundler puts it in a chunk of its own (23 KB minified) fetched only by apps that do.
 *
 * @example
 * const limiter = toLimiter({ maxConcurrent: 4 });
 */
export function toLimiter(option: LimiterOption | undefined): RequestLimiter | undefined {
  if (!option) return undefined;
  if (typeof (option as RequestLimiter).schedule === 'function') return option as RequestLimiter;
  const settings = { ...(option as BottleneckTypes.ConstructorOptions) };
  let made: Promise<RequestLimiter> | undefined;
  return {
    // Every call waits for the same promise, so the calls reach Bottleneck in the order they were made.
    schedule: (fn) =>
      (made ??= loadBottleneck().then((Bottleneck) => new Bottleneck(settings) as RequestLimiter)).then((limiter) =>
        limiter.schedule(fn),
      ),
  };
}

/**
 * Takes a slot of the limiter and resolves with the function that gives it back (idempotent). A
 * caller whose signal fires while queued rejects at once with `ABORTED`; its queued job then runs as
 * a no-op, so nothing is sent for it.
 *
 * @example
 * const release = await acquireSlot(limiter, signal);
 * try { return await send(); } finally { release(); }
 */
export function acquireSlot(limiter: RequestLimiter, signal: AbortSignal | null | undefined): Promise<() => void> {
  return new Promise((resolve, reject) => {
    let gaveUp = false;
    const onAbort = () => {
      gaveUp = true;
      reject(new AbortedError('aborted while waiting for the rate limiter', { operation: 'request' }));
    };
    if (signal) {
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    }
    limiter
      .schedule(() => {
        signal?.removeEventListener('abort', onAbort);
        if (gaveUp) return Promise.resolve();
        return new Promise<void>((release) => {
          let done = false;
          resolve(() => {
            if (!done) {
              done = true;
              release();
            }
          });
        });
      })
      .catch((error: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      });
  });
}
