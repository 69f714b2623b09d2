import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import {
  AbortedError,
  silentLogger,
  sleep,
  TimeoutError,
  type Logger,
  type StoredTokens,
  type TokenSet,
  type TokenStore,
} from '@auth/core';
import type { Cluster, Redis } from 'ioredis';
import { command, evalScript, isCluster, isUnavailable, type RedisClient } from './commands.js';
import { TokenCipher, type EncryptionKey } from './encryption.js';
import { StaleWriteError, TokenDecryptionError } from './errors.js';
import { ACQUIRE, EXTEND, RELEASE, WRITE } from './scripts.js';

/**
 * Options of {@link redisTokenStore}.
 *
 * @example
 * const options: RedisTokenStoreOptions = { redis, key: 'myapp:auth', leaseMs: 10_000, waitTimeoutMs: 60_000, onUnavailable: 'error' };
 */
export interface RedisTokenStoreOptions {
  /**
   * An ioredis client: a `Redis` (one node, or a Sentinel-managed primary: `new Redis({ sentinels, name })`)
   * or a `Cluster`. Recommended settings for a bounded failure when Redis is down:
   * `{ maxRetriesPerRequest: 1, enableOfflineQueue: false }`; the store also puts its own deadline
   * (`commandTimeoutMs`) on every command, so it never hangs whatever the client's settings.
   */
  redis: Redis | Cluster;
  /**
   * Prefix of every Redis key and channel this store uses. Default `'auth'`. Entries are `<key>:{<storeKey>}:tokens`.
   */
  key?: string;
  /** Encrypts stored tokens with AES-GCM. Every process of the fleet needs the same key. */
  encryption?: { key: EncryptionKey };
  /**
   * Lock lease in ms, extended every third of it while its holder renews. A process that dies holding the lock loses it
   * after this. Default 10 000.
   */
  leaseMs?: number;
  /**
   * How long a process waits for another one's renewal before failing with `TIMEOUT`, unless that
   * holder is alive: a holder seen to outlive a lease (its heartbeat extends it, also while it waits
   * for the rate budget or a 429 pause) is waited for until it releases or its lease runs out.
   * Keep it above `leaseMs`, so that a holder can show it is alive in time. A waiting process that
   * loses Redis (a failover) keeps trying until this deadline. Default 60 000.
   */
  waitTimeoutMs?: number;
  /**
   * Deadline of each Redis command; past it the call fails with `NETWORK` ({@link RedisUnavailableError}). Default 2
   * 000.
   */
  commandTimeoutMs?: number;
  /**
   * Longest pause between two looks at the lock while waiting (pub/sub normally wakes waiters at once). Default 500.
   */
  maxPollMs?: number;
  /**
   * What to do when Redis is unreachable. `'error'` (default): fail with {@link RedisUnavailableError}.
   * `'local'`: carry on per process — read the last tokens this process saw, renew without the fleet
   * lock (single-flight inside this process only) and keep writes in memory until Redis answers again.
   * With rotating refresh tokens, two processes renewing during an outage may invalidate each other's
   * refresh token; the loser logs in again.
   */
  onUnavailable?: 'error' | 'local';
  /** Receives warnings (lease lost, fallback used). Never given tokens. */
  logger?: Logger;
}

/**
 * A {@link TokenStore} shared by every process that uses the same Redis and key.
 *
 * @example
 * const store: RedisTokenStore = redisTokenStore({ redis });
 * const session = createAuthSession(strategy, { store });
 * // at shutdown:
 * session.close();
 * await store.close();
 */
export interface RedisTokenStore extends TokenStore {
  coordinate<T>(
    key: string,
    renew: (latest: StoredTokens | undefined) => Promise<T>,
    opts?: { signal?: AbortSignal },
  ): Promise<T>;
  /** Closes the store's own subscriber connection (the `redis` client you passed stays open). */
  close(): Promise<void>;
}

interface Holding {
  key: string;
  owner: string;
  fence: number;
}

/**
 * A token store on Redis that a fleet of processes shares: one token set per key, renewed by one
 * process at a time under a Redis lock with a lease and a fencing check; the others wait for the
 * new tokens (pub/sub, with polling as a fallback) and use them.
 *
 * @example
 * import Redis from 'ioredis';
 * import { createAuthSession } from '@auth/core';
 * import { openLoyaltyAdmin } from '@auth/openloyalty-admin';
 * import { redisTokenStore, redisLimiter } from '@auth/redis-store';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
 * const session = createAuthSession(openLoyaltyAdmin({ baseUrl, username, password }), {
 *   store: redisTokenStore({ redis, key: 'myapp:auth', encryption: { key: Buffer.from(process.env.TOKENS_KEY!, 'base64') } }),
 *   limiter: redisLimiter({ redis, key: 'myapp:auth' }),
 * });
 */
export function redisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  return new Store(options);
}

class Store implements RedisTokenStore {
  readonly #redis: RedisClient;
  readonly #cluster: boolean;
  readonly #prefix: string;
  readonly #cipher: TokenCipher | undefined;
  readonly #leaseMs: number;
  readonly #waitTimeoutMs: number;
  readonly #timeoutMs: number;
  readonly #maxPollMs: number;
  readonly #local: boolean;
  readonly #logger: Logger;
  readonly #holding = new AsyncLocalStorage<Holding>();
  /** Last value seen or written per key: what `'local'` mode serves while Redis is down. */
  readonly #mirror = new Map<string, StoredTokens>();
  /** One coordinate per key at a time in this process (sessions sharing the store queue here, not in Redis). */
  readonly #queues = new Map<string, Promise<unknown>>();
  #subscriber: RedisClient | undefined;
  readonly #channels = new Map<string, Promise<void>>();
  readonly #wakers = new Map<string, Set<() => void>>();
  #closed = false;

  constructor(o: RedisTokenStoreOptions) {
    if (!o || !o.redis || typeof o.redis.evalsha !== 'function')
      throw new TypeError('redisTokenStore needs an ioredis client as `redis`');
    this.#redis = o.redis;
    this.#cluster = isCluster(o.redis);
    this.#prefix = o.key ?? 'auth';
    this.#cipher = o.encryption ? new TokenCipher(o.encryption.key) : undefined;
    this.#leaseMs = positive(o.leaseMs, 10_000, 'leaseMs');
    this.#waitTimeoutMs = positive(o.waitTimeoutMs, 60_000, 'waitTimeoutMs');
    this.#timeoutMs = positive(o.commandTimeoutMs, 2_000, 'commandTimeoutMs');
    this.#maxPollMs = positive(o.maxPollMs, 500, 'maxPollMs');
    this.#local = o.onUnavailable === 'local';
    this.#logger = o.logger ?? silentLogger;
  }

  // Hash tag {…}: one token set's keys (and its channel) share a hash slot, so every script runs on one
  // Redis Cluster node and the wake-ups stay on that shard (sharded pub/sub).
  #keys(key: string) {
    const base = `${this.#prefix}:{${key}}`;
    return { tokens: `${base}:tokens`, lock: `${base}:lock`, fence: `${base}:fence`, channel: `${base}:events` };
  }

  async get(key: string): Promise<StoredTokens | undefined> {
    const k = this.#keys(key);
    let row: (string | null)[];
    try {
      row = await command('HMGET', this.#timeoutMs, () => this.#redis.hmget(k.tokens, 'g', 'd'), this.#redis);
    } catch (error) {
      if (this.#local && isUnavailable(error)) {
        this.#logger.warn("redis-store: Redis unreachable; using this process's last tokens", { key });
        return copy(this.#mirror.get(key));
      }
      throw error;
    }
    const [g, d] = row;
    if (g == null || d == null) {
      this.#mirror.delete(key);
      return undefined;
    }
    const value: StoredTokens = { tokens: await this.#decode(d, k.tokens), generation: Number(g) };
    this.#mirror.set(key, copy(value)!);
    return value;
  }

  async set(key: string, value: StoredTokens): Promise<void> {
    const k = this.#keys(key);
    const held = this.#holding.getStore();
    const mine = held && held.key === key ? held : undefined;
    const data = await this.#encode(value.tokens, k.tokens);
    let result: number;
    try {
      result = await evalScript<number>(
        this.#redis,
        WRITE,
        [k.tokens, k.lock],
        [mine?.owner ?? '', value.generation, mine?.fence ?? 0, data],
        this.#timeoutMs,
        'the token write',
      );
    } catch (error) {
      if (this.#local && isUnavailable(error)) {
        this.#logger.warn('redis-store: Redis unreachable; tokens kept in this process until it answers', { key });
        this.#mirror.set(key, copy(value)!);
        return;
      }
      throw error;
    }
    if (result === -1)
      throw new StaleWriteError(
        `redis-store: another process holds the lock of "${key}"${mine ? " (this process's lease ended)" : ''}; this write was refused`,
      );
    if (result === -2)
      throw new StaleWriteError(
        `redis-store: a newer generation of "${key}" is already stored; this write was refused`,
      );
    this.#mirror.set(key, copy(value)!);
  }

  async delete(key: string): Promise<void> {
    const k = this.#keys(key);
    this.#mirror.delete(key);
    try {
      await command('DEL', this.#timeoutMs, () => this.#redis.del(k.tokens), this.#redis);
    } catch (error) {
      if (!(this.#local && isUnavailable(error))) throw error;
      this.#logger.warn('redis-store: Redis unreachable; the tokens were forgotten in this process only', { key });
    }
  }

  coordinate<T>(
    key: string,
    renew: (latest: StoredTokens | undefined) => Promise<T>,
    opts: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const run = previous.then(
      () => this.#coordinate(key, renew, opts.signal),
      () => this.#coordinate(key, renew, opts.signal),
    );
    const tail = run.catch(() => {});
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return run;
  }

  async #coordinate<T>(
    key: string,
    renew: (latest: StoredTokens | undefined) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const k = this.#keys(key);
    const deadline = Date.now() + this.#waitTimeoutMs;
    // The holder this process waits behind: `end` is the latest its lease could end without an
    // extension; seen holding the lock after that, it has extended it, so it is alive.
    let watch: { fence: number; end: number; alive: boolean } | undefined;
    for (let round = 0; ; round += 1) {
      if (signal?.aborted) throw new AbortedError('redis-store: aborted while waiting for the token lock');
      if (this.#closed) throw new AbortedError('redis-store: the store was closed');
      // Listen before looking at the lock, so a release between the two is not missed.
      await this.#listen(k.channel);
      const owner = randomUUID();
      const asked = Date.now();
      let answer: [number, number, number];
      try {
        answer = await evalScript<[number, number, number]>(
          this.#redis,
          ACQUIRE,
          [k.lock, k.fence],
          [owner, this.#leaseMs],
          this.#timeoutMs,
          'the lock',
        );
      } catch (error) {
        // The request may still reach Redis (ioredis replays its offline queue after reconnecting; a
        // reply may be lost with the connection): queued after it, this undoes a lock nobody would hold.
        void evalScript(
          this.#redis,
          RELEASE,
          [k.lock],
          [owner, k.channel, this.#publish],
          this.#timeoutMs,
          'the lock release',
        ).catch(() => {});
        if (this.#local && isUnavailable(error)) {
          this.#logger.warn('redis-store: Redis unreachable; renewing without the fleet lock', { key });
          return renew(copy(this.#mirror.get(key)));
        }
        // A process already waiting behind a holder rides through a failover (or any short outage)
        // until its own deadline: it was prepared to wait that long anyway. A first look fails fast.
        if (watch && isUnavailable(error) && Date.now() < deadline) {
          await this.#wait(k.channel, Math.max(1, Math.min(this.#maxPollMs, deadline - Date.now())), signal);
          continue;
        }
        throw error;
      }
      const [fence, holderLease, holder] = answer;
      if (fence > 0) return this.#hold(key, { key, owner, fence }, renew);
      const now = Date.now();
      if (!watch || watch.fence !== holder) watch = { fence: holder, end: now + holderLease, alive: false };
      else if (asked > watch.end) watch = { fence: holder, end: now + holderLease, alive: true };
      const remaining = deadline - now;
      // A healthy holder (waiting for the rate budget, say) is waited for; its lease bounds the wait if it dies.
      if (remaining <= 0 && !watch.alive)
        throw new TimeoutError(
          `redis-store: waited ${this.#waitTimeoutMs} ms for another process to renew the tokens of "${key}"`,
          { timeoutMs: this.#waitTimeoutMs },
        );
      const backoff = Math.min(this.#maxPollMs, 10 * 2 ** Math.min(round, 10));
      await this.#wait(
        k.channel,
        Math.max(1, Math.min(backoff, holderLease + 1, watch.alive ? Number.POSITIVE_INFINITY : remaining)),
        signal,
      );
    }
  }

  async #hold<T>(key: string, held: Holding, renew: (latest: StoredTokens | undefined) => Promise<T>): Promise<T> {
    const k = this.#keys(key);
    let lost = false;
    const heartbeat = setInterval(
      () => {
        evalScript<number>(
          this.#redis,
          EXTEND,
          [k.lock],
          [held.owner, this.#leaseMs],
          this.#timeoutMs,
          'the lease extension',
        ).then(
          (ok) => {
            if (ok === 0 && !lost) {
              lost = true;
              this.#logger.warn('redis-store: lock lease lost while renewing; newer tokens will not be overwritten', {
                key,
              });
            }
          },
          () => {},
        );
      },
      Math.max(1, Math.floor(this.#leaseMs / 3)),
    );
    heartbeat.unref?.();
    try {
      // Another process may have renewed while this one waited: hand its tokens to `renew`.
      const latest = await this.get(key);
      return await this.#holding.run(held, () => renew(latest));
    } finally {
      clearInterval(heartbeat);
      await evalScript(
        this.#redis,
        RELEASE,
        [k.lock],
        [held.owner, k.channel, this.#publish],
        this.#timeoutMs,
        'the lock release',
      ).catch(() => {
        // Unreachable: the lease ends on its own.
      });
    }
  }

  /** PUBLISH on one node; SPUBLISH on a cluster (to the channel's shard only). */
  get #publish(): string {
    return this.#cluster ? 'spublish' : 'publish';
  }

  #listen(channel: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (!this.#subscriber) {
      const wake = (ch: string) => {
        const wakers = this.#wakers.get(ch);
        if (wakers) for (const w of [...wakers]) w();
      };
      let sub: RedisClient;
      if (isCluster(this.#redis)) {
        // Sharded pub/sub (Redis 7): ioredis keeps one subscriber per primary and follows the slot
        // through failovers and migrations; messages that get lost meanwhile are covered by polling.
        sub = this.#redis.duplicate(undefined, { shardedSubscribers: true, enableOfflineQueue: true });
        sub.on('smessage', wake);
      } else {
        // Its own queue: SUBSCRIBE waits for the connection (bounded by the command deadline below).
        sub = this.#redis.duplicate({ enableOfflineQueue: true });
        sub.on('message', wake);
      }
      sub.on('error', () => {});
      this.#subscriber = sub;
    }
    const sub = this.#subscriber;
    let ready = this.#channels.get(channel);
    if (!ready) {
      ready = this.#cluster
        ? command('SSUBSCRIBE', this.#timeoutMs, () => sub.ssubscribe(channel)).then(() => undefined)
        : command('SUBSCRIBE', this.#timeoutMs, () => sub.subscribe(channel)).then(() => undefined);
      this.#channels.set(channel, ready);
    }
    // Without pub/sub, waiters poll: slower, still correct. Try subscribing again next time.
    return ready.catch(() => {
      if (this.#channels.get(channel) === ready) this.#channels.delete(channel);
    });
  }

  #wait(channel: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      let wakers = this.#wakers.get(channel);
      if (!wakers) this.#wakers.set(channel, (wakers = new Set()));
      const set = wakers;
      const inner = new AbortController();
      const done = () => {
        set.delete(done);
        signal?.removeEventListener('abort', done);
        inner.abort();
        resolve();
      };
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
      sleep(ms, inner.signal).then(done, done);
    });
  }

  async #encode(tokens: TokenSet, context: string): Promise<string> {
    const json = JSON.stringify(tokens);
    return this.#cipher ? this.#cipher.seal(json, context) : json;
  }

  async #decode(data: string, context: string): Promise<TokenSet> {
    let json: string;
    if (this.#cipher) json = await this.#cipher.open(data, context);
    else if (data.startsWith('gcm1:'))
      throw new TokenDecryptionError(
        'redis-store: the stored tokens are encrypted but this store has no encryption key',
      );
    else json = data;
    let tokens: unknown;
    try {
      tokens = JSON.parse(json);
    } catch {
      // No cause: V8's SyntaxError quotes the start of the text, which may be a token.
      throw new TokenDecryptionError('redis-store: the stored tokens are not valid JSON');
    }
    if (!tokens || typeof (tokens as TokenSet).accessToken !== 'string')
      throw new TokenDecryptionError('redis-store: the stored value is not a token set');
    return tokens as TokenSet;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const wakers of this.#wakers.values()) for (const wake of [...wakers]) wake();
    const sub = this.#subscriber;
    this.#subscriber = undefined;
    this.#channels.clear();
    if (sub) await command('QUIT', this.#timeoutMs, () => sub.quit()).catch(() => sub.disconnect());
  }
}

function copy(v: StoredTokens | undefined): StoredTokens | undefined {
  return v && { tokens: { ...v.tokens }, generation: v.generation };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value))
    throw new RangeError(`redisTokenStore: ${name} must be a positive number`);
  return value;
}
