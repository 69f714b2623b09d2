import Bottleneck from 'bottleneck/light.js';
import type BottleneckTypes from 'bottleneck';
import { AbortedError } from '@auth/core';

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

export function toLimiter(option: LimiterOption | undefined): RequestLimiter | undefined {
  if (!option) return undefined;
  if (typeof (option as RequestLimiter).schedule === 'function') return option as RequestLimiter;
  return new Bottleneck(option as BottleneckTypes.ConstructorOptions) as RequestLimiter;
}

/**
 * Runs `task` when the limiter allows. A caller whose signal fires while queued rejects at once;
 * its queued job then runs as a no-op and sends nothing.
 */
export function schedule<T>(limiter: RequestLimiter, signal: AbortSignal | null | undefined, task: () => Promise<T>): Promise<T> {
  if (!signal) return limiter.schedule(task);
  return new Promise<T>((resolve, reject) => {
    let gaveUp = false;
    const onAbort = () => {
      gaveUp = true;
      reject(new AbortedError('aborted while waiting for the rate limiter', { operation: 'request' }));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    limiter
      .schedule(() => {
        signal.removeEventListener('abort', onAbort);
        return gaveUp ? Promise.resolve(undefined) : task();
      })
      .then(
        (value) => {
          if (!gaveUp) resolve(value as T);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
  });
}
