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
 * Takes a slot of the limiter and resolves with the function that gives it back. A caller whose
 * signal fires while queued rejects at once; its queued job then runs as a no-op.
 */
export function acquire(limiter: RequestLimiter, signal: AbortSignal | undefined): Promise<() => void> {
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
