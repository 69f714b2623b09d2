import { randomUUID } from 'node:crypto';
import {
  MAX_PAUSE_MS,
  RateLimitedError,
  abortReason,
  pausedError,
  silentLogger,
  sleep,
  slidingWindowLimiter,
  type AuthLimiter,
  type AuthLimiterFactory,
  type Logger,
  type RateLimitSpec,
  type ScheduleOptions,
} from '@auth/core';
import type { Cluster, Redis } from 'ioredis';
import { evalScript, isUnavailable, type RedisClient } from './commands.js';
import { LIMIT_ACQUIRE, LIMIT_DROP, LIMIT_HOLD, LIMIT_PAUSE } from './scripts.js';

/**
 * Options of {@link redisLimiter}.
 *
 * @example
 * const options: RedisLimiterOptions = { redis, key: 'myapp:auth', leaseMs: 10_000, maxWaitMs: 120_000 };
 */
export interface RedisLimiterOptions {
  /**
   * An ioredis client (recommended: `{ maxRetriesPerRequest: 1 }`): a `Redis` (one node or a
   * Sentinel-managed primary) or a `Cluster` (a budget's keys share the hash tag `{rl:<spec.key>}`).
   */
  redis: Redis | Cluster;
  /** Prefix of the limiter's Redis keys. Default `'auth'`. A budget lives at `<key>:{rl:<spec.key>}:calls`. */
  key?: string;
  /**
   * Longest an auth call may run without its permit being extended; a heartbeat extends it every
   * third of this while the call runs. A process that dies mid-call frees its permit after
   * `leaseMs + windowMs`. Default 10 000.
   */
  leaseMs?: number;
  /** Deadline of each Redis command. Default 2 000. */
  commandTimeoutMs?: number;
  /**
   * Longest a call waits for a permit before failing with `RATE_LIMITED`. Default 120 000 (the
   * session's default `maxRetryAfterMs`); raise it for windows of more than a minute. A 429 pause
   * longer than the session's `maxRetryAfterMs` fails the call at once, whatever this says.
   */
  maxWaitMs?: number;
  /**
   * When Redis is unreachable: `'error'` (default) fails the auth call with `NETWORK`
   * ({@link RedisUnavailableError}, which the session retries with back-off); `'local'` paces calls
   * with a per-process sliding window of the same spec (the fleet may then exceed the limit by up to
   * one budget per process while Redis is down).
   */
  onUnavailable?: 'error' | 'local';
  logger?: Logger;
}

/**
 * A rate limiter shared by every process on the same Redis: at most `spec.max` auth calls in any
 * window of `spec.windowMs`, counted from each call's start to one window after its end, across the
 * fleet. Pass it to `createAuthSession({ limiter })`.
 *
 * Built on a sorted set and Lua rather than on Bottleneck's Redis clustering: Bottleneck 2.19.5 does
 * connect through ioredis 5, but its shared reservoir cannot give a crash-safe sliding window (see the README).
 *
 * @example
 * import Redis from 'ioredis';
 * import { createAuthSession } from '@auth/core';
 * import { redisLimiter } from '@auth/redis-store';
 * const limiter = redisLimiter({ redis: new Redis(), key: 'myapp:auth' });
 * const session = createAuthSession(strategy, { limiter }); // strategy.rateLimit: { key, max: 20, windowMs: 60_000 }
 */
export function redisLimiter(options: RedisLimiterOptions): AuthLimiterFactory {
  if (!options || !options.redis || typeof options.redis.evalsha !== 'function')
    throw new TypeError('redisLimiter needs an ioredis client as `redis`');
  const made = new Map<string, AuthLimiter>();
  return (spec) => {
    const id = `${spec.key}\u0000${spec.max}\u0000${spec.windowMs}`;
    let limiter = made.get(id);
    if (!limiter) made.set(id, (limiter = new FleetLimiter(spec, options)));
    return limiter;
  };
}

class FleetLimiter implements AuthLimiter {
  readonly #spec: RateLimitSpec;
  readonly #redis: RedisClient;
  readonly #keys: { calls: string; pause: string; epoch: string };
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  readonly #maxWaitMs: number;
  readonly #logger: Logger;
  readonly #fallback: AuthLimiter | undefined;
  readonly #maxPollMs: number;
  /** The state epoch this process last saw; a different one means Redis lost the window. */
  #epoch = '';
  /** Until when this process last saw the fleet paused (by its own 429s or another process's). */
  #pausedUntil = 0;

  constructor(spec: RateLimitSpec, o: RedisLimiterOptions) {
    if (!(spec.max >= 1) || !(spec.windowMs > 0))
      throw new RangeError(`rate limit ${spec.key}: max must be >= 1 and windowMs > 0`);
    this.#spec = { ...spec, max: Math.floor(spec.max) };
    this.#redis = o.redis;
    const base = `${o.key ?? 'auth'}:{rl:${spec.key}}`;
    this.#keys = { calls: `${base}:calls`, pause: `${base}:pause`, epoch: `${base}:epoch` };
    this.#leaseMs = o.leaseMs ?? 10_000;
    this.#timeoutMs = o.commandTimeoutMs ?? 2_000;
    this.#maxWaitMs = o.maxWaitMs ?? 120_000;
    this.#logger = o.logger ?? silentLogger;
    this.#fallback = o.onUnavailable === 'local' ? slidingWindowLimiter(spec) : undefined;
    this.#maxPollMs = Math.min(1_000, Math.max(20, spec.windowMs / 20));
  }

  async schedule<T>(call: () => Promise<T>, options: ScheduleOptions = {}): Promise<T> {
    const id = randomUUID();
    try {
      await this.#acquire(id, options);
    } catch (error) {
      if (this.#fallback && isUnavailable(error)) {
        this.#logger.warn('redis-store: Redis unreachable; pacing auth calls in this process only', {
          key: this.#spec.key,
        });
        return this.#fallback.schedule(call, options);
      }
      throw error;
    }
    const hold = (ms: number) =>
      evalScript(this.#redis, LIMIT_HOLD, [this.#keys.calls], [id, ms], this.#timeoutMs, 'the rate permit');
    const heartbeat = setInterval(
      () => void hold(this.#leaseMs + this.#spec.windowMs).catch(() => {}),
      Math.max(1, Math.floor(this.#leaseMs / 3)),
    );
    heartbeat.unref?.();
    try {
      return await call();
    } finally {
      clearInterval(heartbeat);
      // The permit frees one full window after the call ended (the server saw it at some point before).
      await hold(this.#spec.windowMs).catch(() => {
        // Unreachable: the permit keeps its lease and frees at most leaseMs later.
      });
    }
  }

  async #acquire(id: string, { signal, maxPauseMs = Number.POSITIVE_INFINITY }: ScheduleOptions): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const [granted, wait, epoch, paused] = await evalScript<[number, number, string, number]>(
        this.#redis,
        LIMIT_ACQUIRE,
        [this.#keys.calls, this.#keys.pause, this.#keys.epoch],
        [id, this.#spec.max, this.#spec.windowMs, this.#leaseMs, this.#epoch, randomUUID()],
        this.#timeoutMs,
        'the rate window',
      ).catch((error: unknown) => {
        // The request may still reach Redis (ioredis replays its offline queue after reconnecting):
        // queued after it, this gives back a permit no call would use (it would hold the budget for lease + window).
        void evalScript(this.#redis, LIMIT_DROP, [this.#keys.calls], [id], this.#timeoutMs, 'the rate permit').catch(
          () => {},
        );
        throw error;
      });
      if (this.#epoch !== '' && epoch !== this.#epoch)
        this.#logger.warn(
          'redis-store: the shared rate window was lost (Redis restarted?); holding auth calls for one window',
          { key: this.#spec.key },
        );
      this.#epoch = epoch;
      if (granted === 1) return;
      if (paused === 1) {
        this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + wait);
        if (wait > maxPauseMs) throw pausedError(this.#spec.key, wait, maxPauseMs);
      }
      if (Date.now() - started + wait > this.#maxWaitMs) {
        throw new RateLimitedError(`redis-store: no permit for "${this.#spec.key}" within ${this.#maxWaitMs} ms`, {
          retryAfterMs: wait,
        });
      }
      await sleep(Math.max(1, Math.min(wait, this.#maxPollMs)), signal);
    }
  }

  pause(ms: number): void {
    const capped = Math.ceil(Math.min(Math.max(0, ms), MAX_PAUSE_MS));
    if (!(capped > 0)) return;
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + capped);
    this.#fallback?.pause(capped);
    void evalScript(this.#redis, LIMIT_PAUSE, [this.#keys.pause], [capped], this.#timeoutMs, 'the pause').catch(
      () => {},
    );
  }

  pausedFor(): number {
    return Math.max(0, this.#pausedUntil - Date.now());
  }
}
