import { createAuthSession, type AuthSession, type Logger } from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisLimiter, redisTokenStore, RedisUnavailableError, type RedisTokenStore } from '../src/index.js';
import { freePort, startRedis, type TestRedis } from './helpers/redis-server.js';
import { olAdmin } from './helpers/strategy.js';

let server: OpenLoyaltyServer;
let deadPort: number;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  server = await createOpenLoyaltyServer({ rateLimit: false });
  deadPort = await freePort();
});

afterAll(async () => {
  for (const close of closers) await close();
  await server.close();
});

beforeEach(() => server.resetCounters());

/** ioredis with its defaults: offline queue on, reconnecting forever. Alone, a command would wait for ever. */
function defaultClient(port: number): Redis {
  const c = new Redis({ port, host: '127.0.0.1' });
  c.on('error', () => {});
  closers.push(() => c.disconnect());
  return c;
}

function session(store: RedisTokenStore, extra: Parameters<typeof createAuthSession>[1] = {}): AuthSession {
  const s = createAuthSession(olAdmin(server.url), { store, ...extra });
  closers.push(() => s.close());
  return s;
}

function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, meta?: Record<string, unknown>) =>
    lines.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
  return { logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }, lines };
}

describe('Redis unreachable', () => {
  it("default: a typed NETWORK error within the command deadline, even with ioredis's offline queue", async () => {
    const store = redisTokenStore({ redis: defaultClient(deadPort), commandTimeoutMs: 300 });
    closers.push(() => store.close());
    const error = await store.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(error).toMatchObject({ code: 'NETWORK', transient: true });
    await expect(store.coordinate('k', async () => 1)).rejects.toMatchObject({ code: 'NETWORK' });
    const s = session(store);
    await expect(s.getToken()).rejects.toMatchObject({ code: 'NETWORK', name: 'RedisUnavailableError' });
    expect(server.counters.authCalls).toBe(0);
  });

  it('fails fast with a client that has no offline queue', async () => {
    const c = new Redis({ port: deadPort, host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    c.on('error', () => {});
    closers.push(() => c.disconnect());
    const store = redisTokenStore({ redis: c, commandTimeoutMs: 60_000 });
    closers.push(() => store.close());
    await expect(store.get('k')).rejects.toBeInstanceOf(RedisUnavailableError);
  });

  it("onUnavailable: 'local' carries on per process, says so in the log, and never logs tokens", async () => {
    const log = recorder();
    const store = redisTokenStore({
      redis: defaultClient(deadPort),
      commandTimeoutMs: 200,
      onUnavailable: 'local',
      logger: log.logger,
    });
    closers.push(() => store.close());
    const s = session(store, {
      logger: log.logger,
      limiter: redisLimiter({ redis: defaultClient(deadPort), commandTimeoutMs: 200, onUnavailable: 'local' }),
    });
    const t = await s.getToken();
    expect(t.accessToken).toBeTruthy();
    expect(server.counters.logins).toBe(1);
    const renewed = await s.refresh();
    expect(server.counters.refreshes).toBe(1);
    expect((await store.get(olAdmin(server.url).storeKey!))?.tokens.accessToken).toBe(renewed.accessToken);
    expect(log.lines.some((l) => l.startsWith('warn redis-store: Redis unreachable'))).toBe(true);
    const text = log.lines.join('\n');
    expect(text).not.toContain(t.accessToken);
    expect(text).not.toContain(renewed.refreshToken!);
  });

  it('limiter: NETWORK by default, per-process pacing when asked', async () => {
    const strict = redisLimiter({ redis: defaultClient(deadPort), commandTimeoutMs: 200 })({
      key: 'x',
      max: 2,
      windowMs: 1_000,
    });
    let ran = 0;
    await expect(strict.schedule(async () => (ran += 1))).rejects.toMatchObject({ code: 'NETWORK' });
    expect(ran).toBe(0);
    const lenient = redisLimiter({ redis: defaultClient(deadPort), commandTimeoutMs: 200, onUnavailable: 'local' })({
      key: 'x',
      max: 2,
      windowMs: 1_000,
    });
    expect(await lenient.schedule(async () => 'ran')).toBe('ran');
  });
});

describe('Redis going away and coming back', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('a client without an offline queue can be used at once: the store lets its first connection attempt finish', async () => {
    const store = redisTokenStore({ redis: redis.client({ enableOfflineQueue: false }) });
    closers.push(() => store.close());
    await store.set('fresh', { tokens: { accessToken: 'a' }, generation: 1 });
    expect((await store.get('fresh'))?.generation).toBe(1);
  });

  it('a lock or a permit asked for while Redis was down, given up on, is not taken when the offline queue is replayed', async () => {
    const client = redis.client(); // ioredis defaults: offline queue on, commands replayed after reconnecting
    const store = redisTokenStore({ redis: client, key: 'ghost', commandTimeoutMs: 300 });
    closers.push(() => store.close());
    const limiter = redisLimiter({ redis: client, key: 'ghost', commandTimeoutMs: 300 })({
      key: 'b',
      max: 5,
      windowMs: 60_000,
    });
    await client.ping();
    await redis.kill();
    await expect(store.coordinate('k', async () => 1)).rejects.toMatchObject({ code: 'NETWORK' });
    await expect(limiter.schedule(async () => 1)).rejects.toMatchObject({ code: 'NETWORK' });
    await redis.start();
    const raw = redis.client();
    for (let i = 0; i < 100 && client.status !== 'ready'; i += 1) await new Promise((r) => setTimeout(r, 20));
    await client.ping(); // after everything the client had queued
    // Nobody holds the lock, nobody holds a permit: the fleet is not stalled by requests nobody waits for.
    expect(await raw.get('ghost:{k}:lock')).toBeNull();
    expect(await raw.zcard('ghost:{rl:b}:calls')).toBe(0);
  });

  it('a process already waiting behind a holder rides through Redis going away for a moment (a failover that lost the lock), then renews', async () => {
    const raw = redis.client();
    // The holder: its lock lives 60 s, and it is lost with the data (as on a primary that died before replicating).
    await raw.set('ride:{k}:lock', 'holder-on-the-dead-primary', 'PX', 60_000);
    const store = redisTokenStore({
      redis: redis.client({ maxRetriesPerRequest: 1 }),
      key: 'ride',
      commandTimeoutMs: 300,
      waitTimeoutMs: 20_000,
    });
    closers.push(() => store.close());
    const waiting = store.coordinate('k', async (latest) => `renewed (saw ${latest?.generation ?? 'nothing'})`);
    await new Promise((r) => setTimeout(r, 200));
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1_000));
    await redis.start();
    expect(await waiting).toBe('renewed (saw nothing)');
  });

  it('cached tokens keep working while Redis is down; renewal fails typed, then works again when Redis is back', async () => {
    const store = redisTokenStore({ redis: redis.client({ maxRetriesPerRequest: 1 }), commandTimeoutMs: 500 });
    closers.push(() => store.close());
    const s = session(store);
    const t = await s.getToken();
    await redis.kill();
    expect((await s.getToken()).accessToken).toBe(t.accessToken);
    await expect(s.refresh()).rejects.toMatchObject({ code: 'NETWORK' });
    expect(server.counters.refreshes).toBe(0);
    await redis.start();
    // Redis came back empty: the session still has its tokens and renews with them.
    let renewed: Awaited<ReturnType<AuthSession['refresh']>> | undefined;
    for (let i = 0; i < 50 && !renewed; i += 1)
      renewed = await s.refresh().catch(() => new Promise<undefined>((r) => setTimeout(r, 100)));
    expect(renewed?.accessToken).not.toBe(t.accessToken);
    expect(server.counters.refreshes).toBe(1);
    expect((await store.get(olAdmin(server.url).storeKey!))?.tokens.accessToken).toBe(renewed!.accessToken);
  });
});
