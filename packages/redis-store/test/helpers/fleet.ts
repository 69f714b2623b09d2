import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { completeTokenSet } from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import type { Cluster, Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { redisTokenStore } from '../../src/index.js';

// Real processes: each child runs test/fleet/worker.mjs on the built packages (dist). The package's
// `test` task runs after `build` (turbo); run `npx turbo run build --filter=@auth/redis-store...` first when running it
// alone.
const here = fileURLToPath(new URL('.', import.meta.url));
const worker = `${here}../fleet/worker.mjs`;
const dists = ['core', 'redis-store', 'openloyalty-admin', 'axios-adapter'].map(
  (p) => `${here}../../../${p}/dist/index.js`,
);

export const encryptionKey = Buffer.from(new Uint8Array(32).map((_, i) => (i * 7 + 3) % 256));
export const username = 'admin';

/** Where the workers find Redis (see worker.mjs). */
export type Topology =
  | { topology: 'single'; port: number }
  | { topology: 'cluster'; nodes: { host: string; port: number }[] }
  | { topology: 'sentinel'; sentinels: { host: string; port: number }[]; name: string };

export interface Result {
  tally: Record<string, number>;
  last?: Record<string, number>;
}

export interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  result: Promise<Result>;
  holding: Promise<void>;
  /** `twice` mode: the first burst's tally and how long it took. */
  first: Promise<{ tally: Record<string, number>; ms: number }>;
  go(): void;
  stop(): void;
}

const children = new Set<ChildProcess>();

export function assertBuilt(): void {
  const missing = dists.filter((d) => !existsSync(d));
  if (missing.length > 0)
    throw new Error(`build first (npx turbo run build --filter=@auth/redis-store...): missing ${missing.join(', ')}`);
}

/** SIGKILLs every worker still running (call it in afterEach: a failed test leaves none behind). */
export function killWorkers(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}

export function spawnWorker(redis: Topology, config: Record<string, unknown>): Child {
  const proc = fork(worker, [JSON.stringify({ redis, encryptionKey: encryptionKey.toString('base64'), ...config })], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  children.add(proc);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let ready!: () => void;
  let holding!: () => void;
  let first!: (v: { tally: Record<string, number>; ms: number }) => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const holdingP = new Promise<void>((r) => (holding = r));
  const firstP = new Promise<{ tally: Record<string, number>; ms: number }>((r) => (first = r));
  const result = new Promise<Result>((resolve, reject) => {
    proc.on('message', (m: { type: string; error?: string; tally: Record<string, number>; ms: number } & Result) => {
      if (m.type === 'ready') ready();
      else if (m.type === 'holding') holding();
      else if (m.type === 'first') first(m);
      else if (m.type === 'result') resolve(m);
      else if (m.type === 'failed') reject(new Error(m.error));
    });
    // 'close', not 'exit': 'exit' can come before the last IPC messages (the result) are read.
    proc.on('close', (code, signal) =>
      reject(new Error(`worker exited (${code ?? signal}) before its result: ${stderr.slice(-2000)}`)),
    );
  });
  result.catch(() => {});
  // A worker that fails before it holds the lock (or before its first burst) must fail the test, not hang it.
  const orFailed = <T>(p: Promise<T>, what: string) => {
    const raced = Promise.race([p, result.then(() => Promise.reject(new Error(`worker finished without ${what}`)))]);
    raced.catch(() => {});
    return raced;
  };
  proc.on('exit', () => children.delete(proc));
  return {
    proc,
    ready: readyP,
    result,
    holding: orFailed(holdingP, 'holding the lock'),
    first: orFailed(firstP, 'a first burst'),
    go: () => proc.connected && proc.send({ type: 'go' }),
    stop: () => proc.connected && proc.send({ type: 'stop' }),
  };
}

export async function fleet(redis: Topology, n: number, config: Record<string, unknown>): Promise<Child[]> {
  const all = Array.from({ length: n }, () => spawnWorker(redis, config));
  await Promise.all(all.map((c) => c.ready));
  return all;
}

export function sum(tallies: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tallies) for (const [k, v] of Object.entries(t)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export function storeKeyOf(server: OpenLoyaltyServer): string {
  return `openloyalty-admin:${server.url}:${username}`;
}

/**
 * Stores an expired access token (and a live refresh token) as the fleet's token set. Returns the tokens' Redis key.
 */
export async function seedExpired(server: OpenLoyaltyServer, redis: Redis | Cluster): Promise<string> {
  const t = await server.issueTokens({ username, accessTokenTtlSec: -10 });
  const store = redisTokenStore({ redis, key: 'fleet', encryption: { key: encryptionKey } });
  await store.set(storeKeyOf(server), {
    tokens: completeTokenSet({ accessToken: t.token, refreshToken: t.refresh_token }, Date.now()),
    generation: 1,
  });
  await store.close();
  const key = `fleet:{${storeKeyOf(server)}}:tokens`;
  if ((await redis.exists(key)) !== 1) throw new Error('the seeded tokens are not in Redis');
  return key;
}

/** Prints a scenario's figures when FLEET_REPORT=1. */
export function report(scenario: string, figures: Record<string, unknown>): void {
  if (process.env.FLEET_REPORT) console.log(`[fleet] ${scenario} ${JSON.stringify(figures)}`);
}

/** Where the scenarios run: the workers' topology, and a client of that Redis to seed it. */
export interface FleetEnv {
  topology: Topology;
  client: Redis | Cluster;
}

/**
 * The scenarios every topology runs: fleet.test.ts on one node (`name` ''), fleet-topologies.test.ts
 * on a cluster and on Sentinel (`name` prefixes the tests' names).
 */
export function fleetScenarios(name: string, env: () => FleetEnv): void {
  const title = (what: string) => (name ? `${name}: ${what}` : what);
  const burst =
    '8 processes × 500 concurrent requests on an expired token: exactly one refresh, every request succeeds';
  it(title(burst), async () => {
    const server = await createOpenLoyaltyServer({ accessTokenTtlSec: 300, rateLimit: { max: 20, windowMs: 60_000 } });
    try {
      await seedExpired(server, env().client);
      const config = { baseUrl: server.url, requests: 500, max: 20, windowMs: 60_000, commandTimeoutMs: 5_000 };
      const all = await fleet(env().topology, 8, { mode: 'burst', ...config });
      server.resetCounters();
      for (const c of all) c.go();
      const results = await Promise.all(all.map((c) => c.result));
      const total = sum(results.map((r) => r.tally));
      report(`${name || 'single'} burst`, { ...server.counters, total });
      expect(total).toEqual({ 'ok:200': 4_000 });
      expect(server.counters.refreshes).toBe(1);
      expect(server.counters.logins).toBe(0);
      expect(server.counters.authCalls).toBe(1);
      expect(server.counters.apiRejected).toBe(0);
      expect(server.counters.apiCalls).toBe(4_000);
    } finally {
      await server.close();
    }
  });

  it(title('8 processes forcing logins: the server never sees more than its limit in any window'), async () => {
    const server = await createOpenLoyaltyServer({ rateLimit: { max: 4, windowMs: 1_000 } });
    try {
      const config = { baseUrl: server.url, logins: 2, max: 4, windowMs: 1_000 };
      const all = await fleet(env().topology, 8, { mode: 'logins', ...config });
      server.resetCounters();
      for (const c of all) c.go();
      const results = await Promise.all(all.map((c) => c.result));
      report(`${name || 'single'} logins`, { ...server.counters });
      expect(sum(results.map((r) => r.tally))).toEqual({ ok: 16 });
      expect(server.counters.logins).toBe(16);
      expect(server.counters.rateLimited).toBe(0);
      expect(server.counters.maxAuthCallsInWindow).toBeLessThanOrEqual(4);
    } finally {
      await server.close();
    }
  });
}
