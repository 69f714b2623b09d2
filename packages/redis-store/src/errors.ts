import { AuthError, type AuthErrorOptions } from '@auth/core';

/**
 * Redis did not answer in time or the connection is down (code `NETWORK`, transient). Thrown instead
 * of waiting forever on ioredis's offline queue.
 *
 * @example
 * import { RedisUnavailableError } from '@auth/redis-store';
 * try {
 *   await session.getToken();
 * } catch (error) {
 *   if (error instanceof RedisUnavailableError) console.warn('token store down, retry later');
 * }
 */
export class RedisUnavailableError extends AuthError {
  constructor(message = 'Redis is unreachable', options?: AuthErrorOptions) {
    super('NETWORK', message, options);
  }
}

/**
 * The stored tokens could not be decrypted: wrong encryption key, a tampered value, or a value
 * written with (or without) encryption when this store expects the other (code `CONFIGURATION`,
 * not retried, so a misconfigured process fails fast instead of looping).
 *
 * @example
 * import { TokenDecryptionError } from '@auth/redis-store';
 * session.getToken().catch((error: unknown) => {
 *   if (error instanceof TokenDecryptionError) console.error('check AUTH_TOKENS_KEY');
 * });
 */
export class TokenDecryptionError extends AuthError {
  constructor(
    message = 'The stored tokens could not be decrypted with the configured key',
    options?: AuthErrorOptions,
  ) {
    super('CONFIGURATION', message, options);
  }
}

/**
 * A write was refused because it would replace newer tokens: this process's lock lease ended before
 * it wrote (another process holds the lock now), or the store already holds a later generation
 * (code `TIMEOUT`). The session keeps its own tokens in memory and logs the failure; the fleet
 * keeps the newer ones.
 *
 * @example
 * import { StaleWriteError } from '@auth/redis-store';
 * await store.set('acme', { tokens, generation: 1 }).catch((error: unknown) => {
 *   if (error instanceof StaleWriteError) console.info('a newer token set is already stored');
 * });
 */
export class StaleWriteError extends AuthError {
  constructor(message = 'Newer tokens are already stored; this write was refused', options?: AuthErrorOptions) {
    super('TIMEOUT', message, options);
  }
}
