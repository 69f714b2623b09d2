import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  fleet as spawnFleet,
  fleetScenarios,
  killWorkers,
  seedExpired as seed,
  sum,
  type Child,
  type Topology,
} from './helpers/fleet.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

// Real processes on one Redis node (test/helpers/fleet.ts, test/fleet/worker.mjs); fleetScenarios
// (in helpers/fleet.ts) and failovers run on a Redis Cluster and on Sentinel in fleet-topologies.test.ts.
let redis: TestRedis;
let raw: Redis;
const topology = (): Topology => ({ topology: 'single', port: redis.port });
const fleet = (n: number, config: Record<string, unknown>): Promise<Child[]> => spawnFleet(topology(), n, config);
const seedExpired = async (server: OpenLoyaltyServer): Promise<void> => {
  await seed(server, raw);
};

beforeAll(async () => {
  assertBuilt();
  redis = await startRedis();
  raw = redis.client();
});

afterEach(async () => {
  killWorkers();
  await raw.flushall().catch(() => {});
});

afterAll(async () => {
  await redis.stop();
});

// Child processes start slowly on a busy 2-core machine: generous per-test limits (the suite itself takes about a
// minute).
describe('a fleet of 8 Node processes on one Redis', { timeout: 90_000 }, () => {
  fleetScenarios('', () => ({ topology: topology(), client: raw }));

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
      const all = await fleet(8, {
        mode: 'traffic',
        baseUrl: server.url,
        requests: 20,
        max: 10,
        windowMs: 2_000,
        leaseMs: 1_000,
      });
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
