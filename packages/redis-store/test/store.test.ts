import { completeTokenSet, createAuthSession, type AuthSession, type StoredTokens, type TokenSet } from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import { inspect } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisLimiter, redisTokenStore, StaleWriteError, type RedisTokenStore } from '../src/index.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { olAdmin } from './helpers/strategy.js';

let redis: TestRedis;
let raw: Redis;
let server: OpenLoyaltyServer;
const stores: RedisTokenStore[] = [];
const sessions: AuthSession[] = [];

beforeAll(async () => {
  redis = await startRedis();
  raw = redis.client();
  server = await createOpenLoyaltyServer({ accessTokenTtlSec: 60, rateLimit: { max: 20, windowMs: 2_000 } });
});

afterAll(async () => {
  for (const s of sessions) s.close();
  await Promise.all(stores.map((s) => s.close()));
  await server.close();
  await redis.stop();
});

beforeEach(async () => {
  await raw.flushall();
  server.resetCounters();
});

function store(options: Partial<Parameters<typeof redisTokenStore>[0]> = {}): RedisTokenStore {
  const s = redisTokenStore({ redis: redis.client({ maxRetriesPerRequest: 1 }), key: 'test', ...options });
  stores.push(s);
  return s;
}

function session(s: RedisTokenStore, extra: Parameters<typeof createAuthSession>[1] = {}): AuthSession {
  const a = createAuthSession(olAdmin(server.url), { store: s, ...extra });
  sessions.push(a);
  return a;
}

const tokens = (n: number): TokenSet => ({ accessToken: `access-${n}`, refreshToken: `refresh-${n}` });

async function expiredTokens(): Promise<TokenSet> {
  const t = await server.issueTokens({ username: 'admin', accessTokenTtlSec: -10 });
  // As a session stores them: with the expiry read from the JWT.
  return completeTokenSet({ accessToken: t.token, refreshToken: t.refresh_token }, Date.now());
}

async function apiCall(token: string): Promise<number> {
  const res = await fetch(`${server.url}/api/echo`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

describe('redisTokenStore: storage', () => {
  it('shares one token set between clients and forgets it on delete', async () => {
    const a = store();
    const b = store();
    await a.set('k', { tokens: { ...tokens(1), expiresAt: 123 }, generation: 1 });
    expect(await b.get('k')).toEqual({ tokens: { ...tokens(1), expiresAt: 123 }, generation: 1 });
    await b.delete('k');
    expect(await a.get('k')).toBeUndefined();
  });

  it('keeps key prefixes apart and uses a hash tag per token set', async () => {
    const a = store({ key: 'app-a' });
    const b = store({ key: 'app-b' });
    await a.set('k', { tokens: tokens(1), generation: 1 });
    expect(await b.get('k')).toBeUndefined();
    expect(await raw.keys('app-a:*')).toEqual(['app-a:{k}:tokens']);
  });

  it('refuses to replace a newer generation with an older one', async () => {
    const a = store();
    await a.set('k', { tokens: tokens(3), generation: 3 });
    const refused = await a.set('k', { tokens: tokens(2), generation: 2 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StaleWriteError);
    expect((refused as StaleWriteError).code).toBe('TIMEOUT');
    expect(String((refused as Error).message)).not.toContain('access-2');
    expect((await a.get('k'))?.tokens.accessToken).toBe('access-3');
  });

  it('an error from Redis carries no token, not even in its cause (ioredis attaches the command and its arguments)', async () => {
    const a = store();
    await raw.set('test:{k}:tokens', 'not a hash'); // WRONGTYPE inside the write script
    const error = await a.set('k', { tokens: tokens(7), generation: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SERVER_ERROR' });
    const seen = [
      String(error),
      inspect(error, { depth: 10 }),
      inspect((error as Error).cause, { depth: 10, showHidden: true }),
      JSON.stringify((error as Error).cause),
    ];
    for (const text of seen) expect(text).not.toMatch(/access-7|refresh-7/);
  });
});

describe('redisTokenStore: lock, lease and fencing', () => {
  it('a holder whose lease ended cannot overwrite tokens while another process holds the lock, nor after it wrote', async () => {
    const a = store();
    const b = store();
    await a.set('k', { tokens: tokens(0), generation: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let bDone: Promise<unknown> | undefined;
    const outcome = await a.coordinate('k', async (latest) => {
      expect(latest?.generation).toBe(0);
      // The lease ends (the holder stalled): another process takes the lock and starts renewing.
      await raw.del('test:{k}:lock');
      let bStarted!: () => void;
      const started = new Promise<void>((r) => (bStarted = r));
      bDone = b.coordinate('k', async (bLatest) => {
        bStarted();
        await gate;
        await b.set('k', { tokens: tokens(1), generation: (bLatest?.generation ?? 0) + 1 });
        return 'b wrote';
      });
      await started;
      const whileHeld = await a.set('k', { tokens: tokens(99), generation: 1 }).catch((e: unknown) => e);
      release();
      await bDone;
      const afterWrite = await a.set('k', { tokens: tokens(99), generation: 1 }).catch((e: unknown) => e);
      return [whileHeld, afterWrite];
    });
    expect(outcome[0]).toBeInstanceOf(StaleWriteError);
    expect(outcome[1]).toBeInstanceOf(StaleWriteError);
    expect(await b.get('k')).toEqual({ tokens: tokens(1), generation: 1 });
  });

  it('a holder whose lease ended does not release the lock of the process that took over', async () => {
    const a = store();
    const b = store();
    let bHolds!: () => void;
    const bHolding = new Promise<void>((r) => (bHolds = r));
    let finishB!: () => void;
    const bGate = new Promise<void>((r) => (finishB = r));
    let bDone: Promise<unknown> | undefined;
    await a.coordinate('k', async () => {
      await raw.del('test:{k}:lock'); // a's lease ends (it stalled)
      bDone = b.coordinate('k', async () => {
        bHolds();
        await bGate;
      });
      await bHolding;
    });
    // a is done and released: b's lock must still be there, with b's owner value.
    const holder = await raw.get('test:{k}:lock');
    expect(holder).not.toBeNull();
    finishB();
    await bDone;
    expect(await raw.get('test:{k}:lock')).toBeNull();
  });

  it('a process that died holding the lock loses it when the lease ends; the others renew once', async () => {
    const s = store({ leaseMs: 10_000 });
    await s.set(server.url, { tokens: await expiredTokens(), generation: 1 });
    // A dead holder: its lock stays until its lease (400 ms) runs out; nobody releases it.
    await raw.set(`test:{${olAdmin(server.url).storeKey}}:lock`, 'dead-process', 'PX', 400);
    const a = session(s, { storeKey: server.url });
    const b = session(store(), { storeKey: server.url });
    const [ta, tb] = await Promise.all([a.getToken(), b.getToken()]);
    expect(ta.accessToken).toBe(tb.accessToken);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.logins).toBe(0);
    expect(await apiCall(ta.accessToken)).toBe(200);
  });

  it('extends the lease of a holder that renews for longer than the lease', async () => {
    // Four leases long; a lease of 600 ms (heartbeat every 200 ms) rides out event-loop stalls of a
    // loaded machine that a 150 ms one did not (a stall past the lease lets the waiter in: a real expiry).
    const a = store({ leaseMs: 600 });
    const b = store({ leaseMs: 600 });
    const order: string[] = [];
    await Promise.all([
      a.coordinate('k', async () => {
        order.push('a start');
        await new Promise((r) => setTimeout(r, 2_400));
        await a.set('k', { tokens: tokens(1), generation: 1 });
        order.push('a end');
      }),
      new Promise((r) => setTimeout(r, 50)).then(() =>
        b.coordinate('k', async (latest) => {
          order.push(`b start (saw generation ${latest?.generation})`);
        }),
      ),
    ]);
    expect(order).toEqual(['a start', 'a end', 'b start (saw generation 1)']);
  });

  it('wakes waiters through pub/sub when the holder releases', async () => {
    const a = store();
    const b = store({ maxPollMs: 60_000 });
    const listener = redis.client();
    const messages: string[] = [];
    await listener.subscribe('test:{k}:events');
    listener.on('message', (_ch: string, m: string) => messages.push(m));
    let waiting!: () => void;
    const waited = new Promise<void>((r) => (waiting = r));
    const first = a.coordinate('k', async () => {
      await waited;
      return 'a';
    });
    await new Promise((r) => setTimeout(r, 20));
    const second = b.coordinate('k', async (latest) => latest?.generation ?? 'none');
    // b listens on the token set's channel while it waits.
    for (let i = 0; i < 100 && Number((await raw.pubsub('NUMSUB', 'test:{k}:events'))[1]) < 2; i += 1)
      await new Promise((r) => setTimeout(r, 10));
    expect(Number((await raw.pubsub('NUMSUB', 'test:{k}:events'))[1])).toBeGreaterThanOrEqual(2);
    waiting();
    expect(await first).toBe('a');
    expect(await second).toBe('none');
    expect(messages).toContain('released');
    listener.disconnect();
  });

  it('bounds the wait: a lock that is never released fails with TIMEOUT, without running renew', async () => {
    const s = store({ waitTimeoutMs: 300 });
    await raw.set('test:{k}:lock', 'someone-else', 'PX', 60_000);
    let ran = false;
    const error = await s
      .coordinate('k', async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT', name: 'TimeoutError' });
    expect(ran).toBe(false);
  });

  it('a waiter keeps waiting past waitTimeoutMs behind a healthy holder that waits for the rate budget, then adopts its tokens', async () => {
    const budget = redisLimiter({ redis: redis.client({ maxRetriesPerRequest: 1 }), key: 'test', leaseMs: 150 })({
      key: 'budget',
      max: 1,
      windowMs: 1_200,
    });
    await budget.schedule(async () => {}); // the budget is spent for the next 1.2 s
    const a = store({ leaseMs: 150, waitTimeoutMs: 400 });
    const b = store({ leaseMs: 150, waitTimeoutMs: 400 });
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const first = a.coordinate('k', async () => {
      holding();
      // The holder's auth call waits about 1.2 s for a permit: three times the waiters' waitTimeoutMs.
      await budget.schedule(() => a.set('k', { tokens: tokens(1), generation: 1 }));
      return 'a renewed';
    });
    await held;
    const second = b.coordinate('k', async (latest) => `b saw generation ${latest?.generation}`);
    expect(await first).toBe('a renewed');
    expect(await second).toBe('b saw generation 1');
  });

  it('stops waiting when the signal aborts', async () => {
    const s = store();
    await raw.set('test:{k}:lock', 'someone-else', 'PX', 60_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await s.coordinate('k', async () => 1, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ABORTED' });
  });
});

describe('redisTokenStore with sessions (OpenLoyalty reference server)', () => {
  it('8 sessions on 8 connections, 50 callers each, expired token: one refresh, every call succeeds', async () => {
    const expired = await expiredTokens();
    const key = olAdmin(server.url).storeKey!;
    await store().set(key, { tokens: expired, generation: 1 });
    const fleet = Array.from({ length: 8 }, () => session(store()));
    const got = await Promise.all(fleet.flatMap((s) => Array.from({ length: 50 }, () => s.getToken())));
    const distinct = new Set(got.map((t) => t.accessToken));
    expect(distinct.size).toBe(1);
    expect(got[0]!.accessToken).not.toBe(expired.accessToken);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.logins).toBe(0);
    expect(server.counters.rejectedAuthCalls).toBe(0);
    const statuses = await Promise.all(got.slice(0, 20).map((t) => apiCall(t.accessToken)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const stored = (await store().get(key)) as StoredTokens;
    expect(stored.generation).toBe(2);
    expect(stored.tokens.accessToken).toBe(got[0]!.accessToken);
  });

  it('a session whose token was rejected adopts the tokens another process stored instead of refreshing again', async () => {
    const a = session(store());
    const b = session(store());
    const first = await a.getToken();
    expect((await b.getToken()).accessToken).toBe(first.accessToken);
    const renewed = await a.refresh();
    expect(server.counters.refreshes).toBe(1);
    // b still holds the old token; the API rejects it (say) and b reports it.
    const adopted = await b.tokenRejected(first.accessToken);
    expect(adopted.accessToken).toBe(renewed.accessToken);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.logins).toBe(1);
  });

  it('every process sees its token revoked at once: one refresh for all of them', async () => {
    const fleet = Array.from({ length: 6 }, () => session(store()));
    const first = await fleet[0]!.getToken();
    await Promise.all(fleet.map((s) => s.getToken()));
    server.resetCounters();
    server.revokeAccessTokens();
    expect(await apiCall(first.accessToken)).toBe(401);
    const renewed = await Promise.all(fleet.map((s) => s.tokenRejected(first.accessToken)));
    expect(new Set(renewed.map((t) => t.accessToken)).size).toBe(1);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.logins).toBe(0);
    expect(await apiCall(renewed[0]!.accessToken)).toBe(200);
  });

  it('forced logins from many sessions go through the lock one at a time', async () => {
    const fleet = Array.from({ length: 4 }, () => session(store()));
    await Promise.all(fleet.map((s) => s.login()));
    expect(server.counters.logins).toBe(4);
    const stored = await store().get(olAdmin(server.url).storeKey!);
    expect(stored?.generation).toBe(4);
  });
});
