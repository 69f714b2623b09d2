import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { completeTokenSet } from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisTokenStore } from '../src/index.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

// Real processes: each child runs test/fleet/worker.mjs on the built packages (dist). The package's
// `test` task runs after `build` (turbo); run `npx turbo run build --filter=@auth/redis-store...` first when running it alone.
const here = fileURLToPath(new URL('.', import.meta.url));
const worker = `${here}fleet/worker.mjs`;
const dists = ['core', 'redis-store', 'openloyalty-admin', 'axios-adapter'].map((p) => `${here}../../${p}/dist/index.js`);

const encryptionKey = Buffer.from(new Uint8Array(32).map((_, i) => (i * 7 + 3) % 256));
const username = 'admin';

let redis: TestRedis;
let raw: Redis;
const children = new Set<ChildProcess>();

interface Result {
  tally: Record<string, number>;
  last?: Record<string, number>;
}

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  result: Promise<Result>;
  holding: Promise<void>;
  go(): void;
  stop(): void;
}

function spawnWorker(config: Record<string, unknown>): Child {
  const proc = fork(worker, [JSON.stringify({ redisPort: redis.port, encryptionKey: encryptionKey.toString('base64'), ...config })], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  children.add(proc);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let ready!: () => void;
  let holding!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const holdingP = new Promise<void>((r) => (holding = r));
  const result = new Promise<Result>((resolve, reject) => {
    proc.on('message', (m: { type: string; error?: string } & Result) => {
      if (m.type === 'ready') ready();
      else if (m.type === 'holding') holding();
      else if (m.type === 'result') resolve(m);
      else if (m.type === 'failed') reject(new Error(m.error));
    });
    proc.on('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before its result: ${stderr.slice(-2000)}`)));
  });
  result.catch(() => {});
  // A worker that fails before it holds the lock must fail the test, not hang it.
  const holdingOrFailed = Promise.race([holdingP, result.then(() => Promise.reject(new Error('worker finished without holding the lock')))]);
  holdingOrFailed.catch(() => {});
  proc.on('exit', () => children.delete(proc));
  return { proc, ready: readyP, result, holding: holdingOrFailed, go: () => proc.send({ type: 'go' }), stop: () => proc.connected && proc.send({ type: 'stop' }) };
}

async function fleet(n: number, config: Record<string, unknown>): Promise<Child[]> {
  const all = Array.from({ length: n }, () => spawnWorker(config));
  await Promise.all(all.map((c) => c.ready));
  return all;
}

function sum(tallies: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tallies) for (const [k, v] of Object.entries(t)) out[k] = (out[k] ?? 0) + v;
  return out;
}

async function seedExpired(server: OpenLoyaltyServer): Promise<void> {
  const t = await server.issueTokens({ username, accessTokenTtlSec: -10 });
  const store = redisTokenStore({ redis: raw, key: 'fleet', encryption: { key: encryptionKey } });
  const storeKey = `openloyalty-admin:${server.url}:${username}`;
  await store.set(storeKey, { tokens: completeTokenSet({ accessToken: t.token, refreshToken: t.refresh_token }, Date.now()), generation: 1 });
  expect(await raw.exists(`fleet:{${storeKey}}:tokens`)).toBe(1);
}

beforeAll(async () => {
  const missing = dists.filter((d) => !existsSync(d));
  if (missing.length > 0) throw new Error(`build first (npx turbo run build --filter=@auth/redis-store...): missing ${missing.join(', ')}`);
  redis = await startRedis();
  raw = redis.client();
});

afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  await raw.flushall().catch(() => {});
});

afterAll(async () => {
  await redis.stop();
});

// Child processes start slowly on a busy 2-core machine: generous per-test limits (the suite itself takes about a minute).
describe('a fleet of 8 Node processes on one Redis', { timeout: 90_000 }, () => {
  it('8 processes × 500 concurrent requests on an expired token: exactly one refresh, every request succeeds', async () => {
    const server = await createOpenLoyaltyServer({ accessTokenTtlSec: 300, rateLimit: { max: 20, windowMs: 60_000 } });
    try {
      await seedExpired(server);
      const all = await fleet(8, { mode: 'burst', baseUrl: server.url, requests: 500, max: 20, windowMs: 60_000, commandTimeoutMs: 5_000 });
      server.resetCounters();
      for (const c of all) c.go();
      const results = await Promise.all(all.map((c) => c.result));
      if (process.env.FLEET_REPORT) console.log('burst run', JSON.stringify(server.counters));
      expect(sum(results.map((r) => r.tally))).toEqual({ 'ok:200': 4_000 });
      expect(server.counters.refreshes).toBe(1);
      expect(server.counters.logins).toBe(0);
      expect(server.counters.authCalls).toBe(1);
      expect(server.counters.apiRejected).toBe(0);
      expect(server.counters.apiCalls).toBe(4_000);
    } finally {
      await server.close();
    }
  });

  it('8 processes forcing logins: the server never sees more than its limit in any window', async () => {
    const server = await createOpenLoyaltyServer({ rateLimit: { max: 4, windowMs: 1_000 } });
    try {
      const all = await fleet(8, { mode: 'logins', baseUrl: server.url, logins: 2, max: 4, windowMs: 1_000 });
      server.resetCounters();
      for (const c of all) c.go();
      const results = await Promise.all(all.map((c) => c.result));
      if (process.env.FLEET_REPORT) console.log('logins run', JSON.stringify(server.counters));
      expect(sum(results.map((r) => r.tally))).toEqual({ ok: 16 });
      expect(server.counters.logins).toBe(16);
      expect(server.counters.rateLimited).toBe(0);
      expect(server.counters.maxAuthCallsInWindow).toBeLessThanOrEqual(4);
    } finally {
      await server.close();
    }
  });

  it('a process killed (SIGKILL) while holding the lock, its rotated refresh token lost with it: the others take over after the lease and every request succeeds', async () => {
    const server = await createOpenLoyaltyServer({ accessTokenTtlSec: 300, rateLimit: { max: 20, windowMs: 60_000 } });
    try {
      await seedExpired(server);
      const config = { baseUrl: server.url, requests: 200, max: 20, windowMs: 60_000, leaseMs: 1_500 };
      const [victim] = await fleet(1, { ...config, mode: 'victim' });
      victim!.go();
      await victim!.holding; // it refreshed at the server and holds the lock
      const others = await fleet(7, { ...config, mode: 'burst' });
      for (const c of others) c.go();
      await new Promise((r) => setTimeout(r, 200));
      victim!.proc.kill('SIGKILL');
      const results = await Promise.all(others.map((c) => c.result));
      if (process.env.FLEET_REPORT) console.log('victim run', JSON.stringify(server.counters));
      expect(sum(results.map((r) => r.tally))).toEqual({ 'ok:200': 1_400 });
      // The victim's refresh consumed the stored refresh token: the next holder's refresh is refused, it logs in.
      expect(server.counters.refreshes).toBe(1);
      expect(server.counters.refreshesRejected).toBe(1);
      expect(server.counters.logins).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('Redis restarted (emptied) mid-run: every request settles, failures are typed, the fleet recovers and stays within the limit', async () => {
    const server = await createOpenLoyaltyServer({ accessTokenTtlSec: 3, rateLimit: { max: 10, windowMs: 2_000 } });
    try {
      const all = await fleet(8, { mode: 'traffic', baseUrl: server.url, requests: 20, max: 10, windowMs: 2_000, leaseMs: 1_000 });
      for (const c of all) c.go();
      await new Promise((r) => setTimeout(r, 2_500));
      await redis.restart(400);
      await new Promise((r) => setTimeout(r, 3_500));
      for (const c of all) c.stop();
      const results = await Promise.all(all.map((c) => c.result));
      const total = sum(results.map((r) => r.tally));
      if (process.env.FLEET_REPORT) console.log('restart run', total, JSON.stringify(server.counters));
      // Every request settled: an answer, or a typed AuthError (the token store was unreachable for a moment).
      for (const k of Object.keys(total)) expect(k).toMatch(/^(ok:200|auth:(NETWORK|TIMEOUT))$/);
      expect(total['ok:200']).toBeGreaterThan(0);
      // The fleet recovered: each process's last burst, after the restart, fully succeeded.
      for (const r of results) expect(r.last).toEqual({ 'ok:200': 20 });
      expect(server.counters.rateLimited).toBe(0);
      expect(server.counters.maxAuthCallsInWindow).toBeLessThanOrEqual(10);
    } finally {
      await server.close();
    }
  });
});
