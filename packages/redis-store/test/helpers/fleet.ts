import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { completeTokenSet } from '@auth/core';
import type { OpenLoyaltyServer } from '@auth/testing';
import type { Cluster, Redis } from 'ioredis';
import { redisTokenStore } from '../../src/index.js';

// Real processes: each child runs test/fleet/worker.mjs on the built packages (dist). The package's
// `test` task runs after `build` (turbo); run `npx turbo run build --filter=@auth/redis-store...` first when running it alone.
const here = fileURLToPath(new URL('.', import.meta.url));
const worker = `${here}../fleet/worker.mjs`;
const dists = ['core', 'redis-store', 'openloyalty-admin', 'axios-adapter'].map((p) => `${here}../../../${p}/dist/index.js`);

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
  if (missing.length > 0) throw new Error(`build first (npx turbo run build --filter=@auth/redis-store...): missing ${missing.join(', ')}`);
}

/** SIGKILLs every worker still running (call it in afterEach: a failed test leaves none behind). */
export function killWorkers(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}

export function spawnWorker(redis: Topology, config: Record<string, unknown>): Child {
  const proc = fork(worker, [JSON.stringify({ redis, encryptionKey: encryptionKey.toString('base64'), ...config })], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
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
    proc.on('close', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before its result: ${stderr.slice(-2000)}`)));
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

/** Stores an expired access token (and a live refresh token) as the fleet's token set. Returns the tokens' Redis key. */
export async function seedExpired(server: OpenLoyaltyServer, redis: Redis | Cluster): Promise<string> {
  const t = await server.issueTokens({ username, accessTokenTtlSec: -10 });
  const store = redisTokenStore({ redis, key: 'fleet', encryption: { key: encryptionKey } });
  await store.set(storeKeyOf(server), { tokens: completeTokenSet({ accessToken: t.token, refreshToken: t.refresh_token }, Date.now()), generation: 1 });
  await store.close();
  const key = `fleet:{${storeKeyOf(server)}}:tokens`;
  if ((await redis.exists(key)) !== 1) throw new Error('the seeded tokens are not in Redis');
  return key;
}
