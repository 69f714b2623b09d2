import { script } from './commands.js';

// Lua scripts: each runs atomically in Redis, which is what makes the lock, the fenced write and the
// rate window safe between processes. Times come from Redis (`TIME`), never from a client's clock.

/**
 * KEYS: lock, fence counter. ARGV: owner token, lease ms.
 * → { fence, 0 } when taken, else { 0, holder's remaining lease ms, holder's fence }: the fence tells
 * waiters whether the same holder is still there (and so alive, when it outlived a lease they saw).
 */
export const ACQUIRE = script(`
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return { redis.call('incr', KEYS[2]), 0, 0 }
end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then ttl = 0 end
return { 0, ttl, tonumber(redis.call('get', KEYS[2])) or 0 }
`);

/** KEYS: lock. ARGV: owner token, lease ms. → 1 while the lock is still ours (lease extended), else 0. */
export const EXTEND = script(`
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
`);

/**
 * KEYS: lock. ARGV: owner token, channel, 'publish' | 'spublish'. Deletes the lock if it is ours and
 * wakes the waiters (SPUBLISH on a cluster: the channel shares the lock's hash slot, so the message
 * stays on that shard).
 */
export const RELEASE = script(`
local released = 0
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  released = 1
end
redis.call(ARGV[3], ARGV[2], 'released')
return released
`);

/**
 * KEYS: tokens, lock. ARGV: owner token ('' when writing outside the lock), generation, fence, data.
 * Writes only if the generation is newer than the stored one and no other process holds the lock
 * (its holder is renewing and will write newer tokens). → 1 written, -1 lock held by another, -2 older generation.
 */
export const WRITE = script(`
local holder = redis.call('get', KEYS[2])
if holder and holder ~= ARGV[1] then return -1 end
local stored = tonumber(redis.call('hget', KEYS[1], 'g'))
if stored and stored >= tonumber(ARGV[2]) then return -2 end
redis.call('del', KEYS[1])
redis.call('hset', KEYS[1], 'g', ARGV[2], 'f', ARGV[3], 'd', ARGV[4])
return 1
`);

/**
 * Sliding-window log of auth calls in a sorted set: member = call id, score = when its permit frees
 * (call end + window; while the call runs, now + lease + window, extended by a heartbeat).
 * KEYS: calls, pause, epoch. ARGV: id, max, windowMs, leaseMs, the epoch this process saw ('' if none), a new epoch id.
 * → { granted (1|0), wait ms, epoch, paused (1 when the wait is a 429 pause, 0 when the window is full) }.
 *
 * The epoch detects lost state (Redis restarted without persistence, FLUSHALL): a process that had
 * seen an epoch and finds it gone or replaced pauses everyone for leaseMs + windowMs from the
 * moment the new epoch was created, so calls from before the loss cannot share a window with new ones.
 */
export const LIMIT_ACQUIRE = script(`
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local seen = ARGV[5]
local epoch = redis.call('get', KEYS[3])
if not epoch then
  epoch = ARGV[6] .. ':' .. now
  redis.call('set', KEYS[3], epoch)
end
if seen ~= '' and seen ~= epoch then
  local created = tonumber(string.match(epoch, ':(%d+)$')) or now
  local hold = created + lease + window - now
  if hold > 0 and redis.call('pttl', KEYS[2]) < hold then
    redis.call('set', KEYS[2], 'state-lost', 'PX', hold)
  end
end
local paused = redis.call('pttl', KEYS[2])
if paused > 0 then return { 0, paused, epoch, 1 } end
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) < max then
  redis.call('zadd', KEYS[1], now + lease + window, ARGV[1])
  redis.call('pexpire', KEYS[1], lease + window)
  return { 1, 0, epoch, 0 }
end
local first = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
return { 0, math.max(1, tonumber(first[2]) - now), epoch, 0 }
`);

/** KEYS: calls. ARGV: id, ms from now when the permit frees. Moves the permit's end (only if it is still there). */
export const LIMIT_HOLD = script(`
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local r = redis.call('zadd', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
if redis.call('pttl', KEYS[1]) < tonumber(ARGV[2]) then redis.call('pexpire', KEYS[1], ARGV[2]) end
return r
`);

/**
 * KEYS: calls. ARGV: id. Gives back a permit whose call never ran (a script, so it stays queued behind LIMIT_ACQUIRE's
 * own NOSCRIPT retry).
 */
export const LIMIT_DROP = script(`
return redis.call('zrem', KEYS[1], ARGV[1])
`);

/** KEYS: pause. ARGV: ms. Holds every process's calls back for at least `ms` (a 429 from the server). */
export const LIMIT_PAUSE = script(`
if redis.call('pttl', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('set', KEYS[1], 'rate-limited', 'PX', ARGV[1])
end
return 1
`);
