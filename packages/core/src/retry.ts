import type { AuthError } from './errors.js';

/**
 * Retries of transient auth failures; the session's `retry` option.
 *
 * @example
 * createAuthSession(strategy, { retry: { retries: 5, baseDelayMs: 100, maxRetryAfterMs: 30_000 } });
 */
export interface RetryOptions {
  /** Extra attempts after a transient failure (network, timeout, 5xx, 429). Default 3. */
  retries?: number;
  /** First back-off; doubles each attempt, with jitter. Default 250 ms. */
  baseDelayMs?: number;
  /** Longest back-off between attempts. Default 10 s. */
  maxDelayMs?: number;
  /** Longest `Retry-After` the engine waits out; a longer one rejects with `RATE_LIMITED`. Default 120 s. */
  maxRetryAfterMs?: number;
  /** Wait after a 429 without `Retry-After`. Default: the strategy's rate-limit window, else 60 s. */
  rateLimitedFallbackMs?: number;
}

/**
 * How long to wait before attempt `attempt + 1`, or `undefined` when the error is final: not
 * transient, attempts used up, or the server asks for a longer pause than allowed.
 *
 * @example
 * retryDelay(new ServerError(), 1, {}); // between 125 and 250 ms
 * retryDelay(new RateLimitedError(undefined, { retryAfterMs: 5_000 }), 1, {}); // 5000
 * retryDelay(new CredentialsRejectedError(), 1, {}); // undefined: not transient
 */
export function retryDelay(
  error: AuthError,
  attempt: number,
  opts: RetryOptions,
  random: () => number = Math.random,
): number | undefined {
  const retries = opts.retries ?? 3;
  if (!error.transient || attempt > retries) return undefined;
  const retryAfterMs = (error as AuthError & { retryAfterMs?: number }).retryAfterMs;
  if (error.code === 'RATE_LIMITED' || retryAfterMs !== undefined) {
    const ms = retryAfterMs ?? opts.rateLimitedFallbackMs ?? 60_000;
    return ms <= (opts.maxRetryAfterMs ?? 120_000) ? ms : undefined;
  }
  const base = opts.baseDelayMs ?? 250;
  const capped = Math.min(opts.maxDelayMs ?? 10_000, base * 2 ** (attempt - 1));
  // "Equal jitter": between half and all of the exponential step, so a fleet does not retry in lockstep.
  return Math.round(capped / 2 + (random() * capped) / 2);
}
