import { createHash } from 'node:crypto';
import { ServerError } from '@auth/core';
import type { Cluster, Redis } from 'ioredis';
import { RedisUnavailableError } from './errors.js';

/** A single node (standalone or Sentinel-managed: both are `Redis` instances) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/** A Lua script and its SHA1, run with EVALSHA (EVAL once when Redis does not know it yet, e.g. after a restart). */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

export function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Runs one Redis command with a deadline. ioredis may keep a command in its offline queue until the
 * connection comes back (forever, with some options); the caller gets a typed error after `timeoutMs`.
 */
export async function command<T>(
  what: string,
  timeoutMs: number,
  run: () => Promise<T>,
  redis?: RedisClient,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cleanup = () => {};
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisUnavailableError(`redis-store: Redis did not answer ${what} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    // A client without an offline queue refuses commands while a connection attempt is under way (just
    // after it was created, say): let that attempt finish, within the deadline. A failed attempt
    // ('reconnecting', 'end') is not waited for: such a client is meant to fail fast.
    if (
      redis &&
      (redis.status === 'connecting' || redis.status === 'connect') &&
      redis.options.enableOfflineQueue === false
    ) {
      const settled = new Promise<void>((resolve) => {
        const events = ['ready', 'reconnecting', 'end', 'close'] as const;
        for (const e of events) redis.once(e, resolve);
        cleanup = () => {
          for (const e of events) redis.off(e, resolve);
        };
      });
      await Promise.race([settled, deadline]);
    }
    return await Promise.race([run().catch((error: unknown) => Promise.reject(translate(error, what))), deadline]);
  } finally {
    clearTimeout(timer);
    cleanup();
  }
}

export function evalScript<T>(
  redis: RedisClient,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
  timeoutMs: number,
  what: string,
): Promise<T> {
  return command(
    what,
    timeoutMs,
    async () => {
      try {
        return (await redis.evalsha(s.sha, keys.length, ...keys, ...args)) as T;
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
        return (await redis.eval(s.lua, keys.length, ...keys, ...args)) as T;
      }
    },
    redis,
  );
}

const FAILING_OVER = new Set(['CLUSTERDOWN', 'TRYAGAIN', 'MOVED', 'ASK', 'READONLY', 'LOADING', 'MASTERDOWN']);

/** Redis's own refusals (ReplyError: WRONGTYPE, OOM…) are server errors; everything else means no answer. */
function translate(error: unknown, what: string): Error {
  if (error instanceof RedisUnavailableError) return error;
  if (error instanceof Error && error.name === 'ReplyError') {
    // Only the error's first word (its class): a reply never echoes our arguments, but stay safe.
    const kind = /^[A-Z_]+/.exec(error.message)?.[0] ?? 'ERR';
    // A failover or a slot migration under way (ioredis retried what it could): no answer yet, not a refusal.
    if (FAILING_OVER.has(kind))
      return new RedisUnavailableError(`redis-store: Redis is failing over or moving a slot (${what}: ${kind})`, {
        cause: scrub(error),
      });
    return new ServerError(`redis-store: Redis refused ${what} (${kind})`, { cause: scrub(error) });
  }
  return new RedisUnavailableError(`redis-store: Redis is unreachable (${what})`, { cause: scrub(error) });
}

/**
 * ioredis attaches the failed command to its errors (`error.command.args`), and a token write's
 * arguments are the tokens themselves: keep the cause's name, message and stack, not the arguments.
 */
function scrub(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const clean = new Error(error.message);
  clean.name = error.name;
  if (error.stack !== undefined) clean.stack = error.stack;
  return clean;
}

export function isUnavailable(error: unknown): boolean {
  return error instanceof RedisUnavailableError;
}
