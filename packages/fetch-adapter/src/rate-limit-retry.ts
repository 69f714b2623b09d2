import { AbortedError, parseRetryAfter } from '@auth/core';

/**
 * How API answers of 429 are retried.
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

export interface RetryPolicy {
  retries: number;
  maxRetryAfterMs: number;
  fallbackMs: number;
}

export function toRetryPolicy(option: RateLimitRetryOptions | false | undefined): RetryPolicy | undefined {
  if (option === false) return undefined;
  return { retries: option?.retries ?? 2, maxRetryAfterMs: option?.maxRetryAfterMs ?? 30_000, fallbackMs: option?.fallbackMs ?? 1_000 };
}

/** ms to wait before retrying a 429, or `undefined` when the server asks for more than allowed. */
export function rateLimitWait(policy: RetryPolicy, retryAfter: string | null | undefined): number | undefined {
  const ms = parseRetryAfter(retryAfter) ?? policy.fallbackMs;
  return ms <= policy.maxRetryAfterMs ? ms : undefined;
}

/** Waits `ms`, rejecting at once with `ABORTED` when `signal` fires. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError('aborted while waiting to retry after HTTP 429', { operation: 'request', status: 429 }));
    };
    if (signal?.aborted) return onAbort();
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
