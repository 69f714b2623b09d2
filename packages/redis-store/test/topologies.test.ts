import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Redis } from 'ioredis';
import { redisLimiter, redisTokenStore } from '../src/index.js';
import { cli, startCluster, startSentinel, type TestCluster, type TestSentinel } from './helpers/redis-topologies.js';

// One process, the two topologies: the store's scripts, its wake-ups and the limiter run on a Redis
// Cluster (keys of one token set in one slot, sharded pub/sub) and on a Sentinel-managed primary.
// The fleets, failovers and slot migrations are in fleet-topologies.test.ts.

const tokens = (n: number) => ({ accessToken: `access-${n}`, refreshToken: `refresh-${n}` });

type StoreOptions = Parameters<typeof redisTokenStore>[0];

/** A holder's release reaches the waiters' channel: `messages()` is what an independent listener on it received. */
async function wakesThroughPubSub(
  options: StoreOptions,
  channelSubscribers: () => Promise<number>,
  messages: () => string[],
): Promise<void> {
  const a = redisTokenStore(options);
  // No polling to speak of (and a 60 s lease): b can only learn of the release through a message.
  const b = redisTokenStore({ ...options, maxPollMs: 60_000 });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let holding!: () => void;
  const held = new Promise<void>((r) => (holding = r));
  const first = a.coordinate('k', async () => {
    holding();
    await released;
    await a.set('k', { tokens: tokens(1), generation: 1 });
    return 'a';
  });
  await held;
  const started = Date.now();
  const second = b.coordinate('k', async (latest) => latest?.generation);
  for (let i = 0; i < 200 && (await channelSubscribers()) < 3; i += 1) await new Promise((r) => setTimeout(r, 20));
  expect(await channelSubscribers()).toBeGreaterThanOrEqual(3); // a, b and the listener
  release();
  expect(await first).toBe('a');
  expect(await second).toBe(1);
  for (let i = 0; i < 100 && !messages().includes('released'); i += 1) await new Promise((r) => setTimeout(r, 20));
  expect(messages()).toContain('released');
  // Without a message b would sleep for the rest of a's 60 s lease; generous bound, far below it.
  expect(Date.now() - started).toBeLessThan(30_000);
  await Promise.all([a.close(), b.close()]);
}

describe('Redis Cluster (3 primaries, 3 replicas)', { timeout: 60_000 }, () => {
  let cluster: TestCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
    client = cluster.client();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("stores, fences and wakes waiters with sharded pub/sub in the token set's slot", async () => {
    const options = { redis: client, key: 'topo', leaseMs: 60_000 };
    const s = redisTokenStore(options);
    await s.set('k', { tokens: tokens(1), generation: 1 });
    expect(await s.get('k')).toEqual({ tokens: tokens(1), generation: 1 });
    await expect(s.set('k', { tokens: tokens(0), generation: 1 })).rejects.toMatchObject({ name: 'StaleWriteError' });
    await s.delete('k');
    await s.close();
    const slot = await cluster.slotOf('topo:{k}:events');
    const owner = await cluster.primaryOf(slot);
    // An independent sharded listener in the slot: the release is SPUBLISHed there.
    const listener = cluster.client({ shardedSubscribers: true });
    const got: string[] = [];
    listener.on('smessage', (_ch: string, m: string) => got.push(m));
    await listener.ssubscribe('topo:{k}:events');
    await wakesThroughPubSub(
      options,
      async () => Number((await cli(owner, 'PUBSUB', 'SHARDNUMSUB', 'topo:{k}:events')).split('\n')[1] ?? 0),
      () => got,
    );
  });

  it('the limiter keeps one window on a cluster', async () => {
    const factory = redisLimiter({ redis: client, key: 'topo' });
    const limiter = factory({ key: 'budget', max: 2, windowMs: 60_000 });
    await limiter.schedule(async () => {});
    await limiter.schedule(async () => {});
    const other = redisLimiter({ redis: cluster.client(), key: 'topo', maxWaitMs: 100 })({
      key: 'budget',
      max: 2,
      windowMs: 60_000,
    });
    await expect(other.schedule(async () => {})).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});

describe('Sentinel (1 primary, 1 replica, 3 sentinels)', { timeout: 60_000 }, () => {
  let sentinel: TestSentinel;
  let client: Redis;
  beforeAll(async () => {
    sentinel = await startSentinel();
    client = sentinel.client();
  }, 60_000);
  afterAll(async () => {
    await sentinel?.stop();
  });

  it('stores and wakes waiters through the primary the sentinels name', async () => {
    const options = { redis: client, key: 'topo', leaseMs: 60_000 };
    const s = redisTokenStore(options);
    await s.set('k', { tokens: tokens(1), generation: 1 });
    expect(await s.get('k')).toEqual({ tokens: tokens(1), generation: 1 });
    await s.delete('k');
    await s.close();
    const listener = sentinel.client();
    const got: string[] = [];
    listener.on('message', (_ch: string, m: string) => got.push(m));
    await listener.subscribe('topo:{k}:events');
    await wakesThroughPubSub(
      options,
      async () => Number((await client.pubsub('NUMSUB', 'topo:{k}:events'))[1]),
      () => got,
    );
    expect(await sentinel.primaryPort()).toBe(sentinel.primary.port);
  });
});
