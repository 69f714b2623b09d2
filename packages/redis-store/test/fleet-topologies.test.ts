import { createOpenLoyaltyServer } from '@auth/testing';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  fleet,
  fleetScenarios,
  killWorkers,
  report,
  seedExpired,
  storeKeyOf,
  sum,
  type FleetEnv,
} from './helpers/fleet.js';
import {
  cli,
  startCluster,
  startSentinel,
  until,
  type TestCluster,
  type TestSentinel,
} from './helpers/redis-topologies.js';

// The fleet scenarios of fleet.test.ts (8 worker processes, test/fleet/worker.mjs on the built
// packages) on a Redis Cluster (3 primaries, a replica each) and on Sentinel (1 primary, 1 replica,
// 3 sentinels), including a failover in the middle of a renewal and, on the cluster, a slot migration.
// Set FLEET_REPORT=1 to print each scenario's figures.

interface Env extends FleetEnv {
  /** SIGKILLs the primary that holds `key` now; returns its port. */
  killPrimaryOf(key: string): Promise<number>;
  /** How many connections listen on the token set's channel (sharded on a cluster). */
  subscribers(channel: string): Promise<number>;
  /** Until a new primary serves `key` (promoted by the sentinels or the cluster). */
  waitPromoted(key: string, deadPort: number): Promise<void>;
}

const settledOk = (tally: Record<string, number>) =>
  Object.keys(tally).every((k) => /^(ok:200|auth:(NETWORK|TIMEOUT))$/.test(k));
const count = (tally: Record<string, number>) => Object.values(tally).reduce((a, b) => a + b, 0);

async function failoverDuringRenewal(name: string, e: Env): Promise<void> {
  const server = await createOpenLoyaltyServer({ accessTokenTtlSec: 300, rateLimit: { max: 20, windowMs: 60_000 } });
  try {
    const tokensKey = await seedExpired(server, e.client);
    const lockKey = `fleet:{${storeKeyOf(server)}}:lock`;
    const channel = `fleet:{${storeKeyOf(server)}}:events`;
    // The server holds the refresh for 5 s: the primary dies while the renewal is in flight.
    const refreshDelayMs = 5_000;
    server.faults.add({ endpoint: 'refresh', fault: { kind: 'delay', ms: refreshDelayMs } });
    const waitTimeoutMs = 30_000;
    const leaseMs = 2_000;
    const all = await fleet(e.topology, 8, {
      mode: 'twice',
      baseUrl: server.url,
      requests: 100,
      max: 20,
      windowMs: 60_000,
      leaseMs,
      waitTimeoutMs,
      commandTimeoutMs: 1_000,
    });
    server.resetCounters();
    for (const c of all) c.go();
    await until(() => server.counters.authCalls >= 1, 'the refresh to reach the server');
    // The whole fleet is waiting for that renewal (each process listens before it looks at the lock).
    await until(async () => (await e.subscribers(channel)) >= 8, 'every process to wait for the lock');
    await new Promise((r) => setTimeout(r, 300));
    expect(server.counters.refreshes).toBe(0); // still in flight
    expect(await e.client.exists(lockKey)).toBe(1); // a process holds the lock, on the primary about to die
    const killedAt = Date.now();
    const dead = await e.killPrimaryOf(tokensKey);
    const firsts = await Promise.all(all.map((c) => c.first));
    const settledAfterMs = Date.now() - killedAt;
    await e.waitPromoted(tokensKey, dead);
    const promotedAfterMs = Date.now() - killedAt;
    for (const c of all) c.go();
    const results = await Promise.all(all.map((c) => c.result));
    const recoveredAfterMs = Date.now() - killedAt;
    const first = sum(firsts.map((f) => f.tally));
    const last = sum(results.map((r) => r.last ?? {}));
    report(`${name} failover`, {
      refreshes: server.counters.refreshes,
      refreshesRejected: server.counters.refreshesRejected,
      logins: server.counters.logins,
      first,
      last,
      slowestFirstBurstMs: Math.max(...firsts.map((f) => f.ms)),
      settledAfterMs,
      promotedAfterMs,
      recoveredAfterMs,
      maxAuthCallsInWindow: server.counters.maxAuthCallsInWindow,
      perProcess: firsts.map((f) => f.tally),
      samples: firsts.map((f) => (f as { samples?: unknown }).samples),
    });
    // Every request of the burst during the failover settled, and none failed: the holder kept its
    // tokens, the waiters rode through the failover (it takes seconds, their waitTimeoutMs is 30 s).
    expect(count(first)).toBe(800);
    expect(settledOk(first)).toBe(true);
    expect(first).toEqual({ 'ok:200': 800 });
    // None waited past the configured waits (waitTimeoutMs + a lease + the held refresh, with room for a loaded
    // machine).
    for (const f of firsts) expect(f.ms).toBeLessThan(waitTimeoutMs + leaseMs + refreshDelayMs + 20_000);
    // Two renewals at most (the lock may not have reached the replica), so at most one extra login.
    expect(server.counters.logins).toBeLessThanOrEqual(1);
    expect(server.counters.refreshes + server.counters.logins).toBeGreaterThanOrEqual(1);
    expect(server.counters.rateLimited).toBe(0);
    // The next burst, after the failover: all 200.
    expect(last).toEqual({ 'ok:200': 800 });
  } finally {
    await server.close();
  }
}

afterEach(() => {
  killWorkers();
});

describe('a fleet of 8 processes on a Redis Cluster (3 primaries, 3 replicas)', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  let client: Cluster;
  beforeAll(async () => {
    assertBuilt();
    cluster = await startCluster();
    client = cluster.client();
    await until(async () => client.status === 'ready', 'the cluster client');
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    for (const n of cluster.nodes.filter((x) => x.alive)) await cli(n.port, 'FLUSHALL').catch(() => {});
  });
  const env = (): Env => ({
    topology: { topology: 'cluster', nodes: cluster.startup },
    client,
    async killPrimaryOf(key) {
      const port = await cluster.primaryOf(await cluster.slotOf(key));
      await cluster.node(port).kill();
      return port;
    },
    async waitPromoted(key, deadPort) {
      await cluster.waitHealed(await cluster.slotOf(key), deadPort);
    },
    async subscribers(channel) {
      const owner = await cluster.primaryOf(await cluster.slotOf(channel));
      return Number((await cli(owner, 'PUBSUB', 'SHARDNUMSUB', channel)).split('\n')[1] ?? 0);
    },
  });

  fleetScenarios('cluster', env);

  it("cluster: the token set's slot migrated to another primary mid-run: every request settles, the fleet stays within the limit", async () => {
    const server = await createOpenLoyaltyServer({ accessTokenTtlSec: 2, rateLimit: { max: 10, windowMs: 2_000 } });
    try {
      const tokensKey = `fleet:{${storeKeyOf(server)}}:tokens`;
      const slot = await cluster.slotOf(tokensKey);
      const from = await cluster.primaryOf(slot);
      const primaries = (
        await Promise.all(
          cluster.nodes
            .filter((n) => n.alive)
            .map(async (n) => ({ port: n.port, info: await cli(n.port, 'INFO', 'replication') })),
        )
      )
        .filter((n) => n.info.includes('role:master'))
        .map((n) => n.port);
      const to = primaries.find((p) => p !== from)!;
      const all = await fleet(env().topology, 8, {
        mode: 'traffic',
        baseUrl: server.url,
        requests: 20,
        max: 10,
        windowMs: 2_000,
        leaseMs: 1_000,
      });
      for (const c of all) c.go();
      await new Promise((r) => setTimeout(r, 2_500)); // tokens were issued, stored, and expire every 2 s
      await cluster.migrate(slot, to, 300);
      await new Promise((r) => setTimeout(r, 3_000));
      for (const c of all) c.stop();
      const results = await Promise.all(all.map((c) => c.result));
      const total = sum(results.map((r) => r.tally));
      report('cluster slot migration', {
        total,
        refreshes: server.counters.refreshes,
        logins: server.counters.logins,
        maxAuthCallsInWindow: server.counters.maxAuthCallsInWindow,
        from,
        to,
      });
      expect(await cluster.primaryOf(slot)).toBe(to);
      expect(settledOk(total)).toBe(true);
      expect(total['ok:200']).toBeGreaterThan(0);
      for (const r of results) expect(r.last).toEqual({ 'ok:200': 20 });
      expect(server.counters.rateLimited).toBe(0);
      expect(server.counters.maxAuthCallsInWindow).toBeLessThanOrEqual(10);
    } finally {
      await server.close();
    }
  });

  it("cluster: the primary of the token set's slot SIGKILLed during a renewal, its replica promoted: every request settles, at most one extra login, the next burst all 200", async () => {
    await failoverDuringRenewal('cluster', env());
  });
});

describe('a fleet of 8 processes on Sentinel (1 primary, 1 replica, 3 sentinels)', { timeout: 120_000 }, () => {
  let sentinel: TestSentinel;
  let client: Redis;
  beforeAll(async () => {
    assertBuilt();
    sentinel = await startSentinel();
    client = sentinel.client();
  }, 90_000);
  afterAll(async () => {
    await sentinel?.stop();
  });
  afterEach(async () => {
    await client.flushall().catch(() => {});
  });
  const env = (): Env => ({
    topology: { topology: 'sentinel', sentinels: sentinel.sentinels, name: sentinel.name },
    client,
    async killPrimaryOf() {
      const port = await sentinel.primaryPort();
      await (port === sentinel.primary.port ? sentinel.primary : sentinel.replica).kill();
      return port;
    },
    async subscribers(channel) {
      return Number((await client.pubsub('NUMSUB', channel))[1]);
    },
    async waitPromoted(_key, deadPort) {
      await until(
        async () => (await sentinel.primaryPort()) !== deadPort && (await client.ping().catch(() => '')) === 'PONG',
        'the sentinels to promote the replica',
        60_000,
      );
    },
  });

  fleetScenarios('sentinel', env);

  it('sentinel: the primary SIGKILLed during a renewal, the replica promoted: every request settles, at most one extra login, the next burst all 200', async () => {
    await failoverDuringRenewal('sentinel', env());
  });
});
