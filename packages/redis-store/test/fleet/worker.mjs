/* global process, Buffer, setTimeout */
// One process of the fleet. Runs on the built packages (dist), as a user's process would.
// Config: JSON in argv[2]. Talks to the test through IPC: 'ready' → waits for 'go' → 'result'.
// `config.redis` picks the topology: { topology: 'single', port } (default: `redisPort`),
// { topology: 'cluster', nodes: [{ host, port }] } or { topology: 'sentinel', sentinels: [{ host, port }], name }.
import http from 'node:http';
import axios from 'axios';
import { Cluster, Redis } from 'ioredis';
import { createAuthSession, isAuthError } from '@auth/core';
import { openLoyaltyAdmin } from '@auth/openloyalty-admin';
import { attachAuth } from '@auth/axios-adapter';
import { redisLimiter, redisTokenStore } from '@auth/redis-store';

const config = JSON.parse(process.argv[2]);
const send = (message) => process.send?.(message);

const topology = config.redis ?? { topology: 'single', port: config.redisPort };
const reconnect = (n) => Math.min(50 * n, 200);
function connect() {
  if (topology.topology === 'cluster') {
    // Slot map refreshed every second, so a promoted replica or a moved slot is found soon after.
    return new Cluster(topology.nodes, {
      redisOptions: { maxRetriesPerRequest: 1 },
      slotsRefreshInterval: 1_000,
      retryDelayOnFailover: 200,
      retryDelayOnTryAgain: 100,
      retryDelayOnClusterDown: 200,
      clusterRetryStrategy: reconnect,
    });
  }
  if (topology.topology === 'sentinel') {
    return new Redis({
      sentinels: topology.sentinels,
      name: topology.name,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: reconnect,
      sentinelRetryStrategy: reconnect,
    });
  }
  return new Redis({
    host: '127.0.0.1',
    port: topology.port,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: reconnect,
  });
}
const redis = connect();
redis.on('error', () => {});
const store = redisTokenStore({
  redis,
  key: 'fleet',
  encryption: { key: Buffer.from(config.encryptionKey, 'base64') },
  leaseMs: config.leaseMs ?? 2_000,
  // Short by default, so that a Redis restart shows within the tests' bounds; the burst test asks for
  // more, as eight processes starting at once on a busy machine can hold a command up for a second.
  commandTimeoutMs: config.commandTimeoutMs ?? 1_000,
  waitTimeoutMs: config.waitTimeoutMs ?? 20_000,
});
const limiter = redisLimiter({
  redis,
  key: 'fleet',
  leaseMs: config.leaseMs ?? 2_000,
  commandTimeoutMs: config.commandTimeoutMs ?? 1_000,
  maxWaitMs: config.maxWaitMs,
});

// The victim sends its refresh, gets the rotated tokens, then hangs before writing them: it is
// killed in that state, holding the lock, its new refresh token lost with it.
const baseFetch = globalThis.fetch;
const fetchImpl =
  config.mode === 'victim'
    ? async (input, init) => {
        const res = await baseFetch(input, init);
        if (String(input).endsWith('/api/token/refresh')) {
          await res.arrayBuffer();
          send({ type: 'holding' });
          return new Promise(() => {});
        }
        return res;
      }
    : undefined;

const session = createAuthSession(
  openLoyaltyAdmin({
    baseUrl: config.baseUrl,
    username: 'admin',
    password: 'password',
    rateLimit: { max: config.max, windowMs: config.windowMs },
  }),
  { store, limiter, fetch: fetchImpl },
);

const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
const api = axios.create({ baseURL: config.baseUrl, httpAgent: agent, timeout: 20_000 });
attachAuth(api, session);

const samples = {};
function outcome(error) {
  if (process.env.FLEET_REPORT && isAuthError(error)) samples[error.code] ??= error.message;
  if (isAuthError(error)) return `auth:${error.code}`;
  if (error?.response) return `http:${error.response.status}`;
  return `other:${error?.code ?? error?.name ?? typeof error}`;
}

async function burst(n) {
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => api.get('/api/echo', { params: { i } })),
  );
  const tally = {};
  for (const r of results) {
    const key = r.status === 'fulfilled' ? `ok:${r.value.status}` : outcome(r.reason);
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}

function merge(into, tally) {
  for (const [k, v] of Object.entries(tally)) into[k] = (into[k] ?? 0) + v;
}

async function run() {
  if (config.mode === 'burst' || config.mode === 'victim') return { tally: await burst(config.requests) };
  if (config.mode === 'twice') {
    // A burst, its tally to the test ('first'), then a second burst on the next 'go' (after a failover, say).
    const started = Date.now();
    const tally = await burst(config.requests);
    const next = new Promise((resolve) => process.on('message', (m) => m?.type === 'go' && resolve()));
    send({ type: 'first', tally, ms: Date.now() - started, samples });
    await next;
    return { tally, last: await burst(config.requests) };
  }
  if (config.mode === 'logins') {
    const tally = {};
    for (let i = 0; i < config.logins; i += 1) {
      try {
        await session.login();
        merge(tally, { ok: 1 });
      } catch (error) {
        merge(tally, { [outcome(error)]: 1 });
      }
    }
    return { tally };
  }
  if (config.mode === 'traffic') {
    // Bursts until told to stop; the last burst after 'stop' shows whether this process recovered.
    const tally = {};
    let stop = false;
    process.on('message', (m) => {
      if (m?.type === 'stop') stop = true;
    });
    while (!stop) {
      merge(tally, await burst(config.requests));
      await new Promise((r) => setTimeout(r, 50));
    }
    const last = await burst(config.requests);
    merge(tally, last);
    return { tally, last };
  }
  throw new Error(`unknown mode ${config.mode}`);
}

let running = false;
process.on('message', (m) => {
  if (m?.type !== 'go' || running) return;
  running = true;
  run().then(
    async (result) => {
      send({ type: 'result', ...result });
      session.close();
      await store.close();
      redis.disconnect();
      agent.destroy();
      process.disconnect?.();
    },
    (error) => {
      send({ type: 'failed', error: String(error?.stack ?? error) });
      process.exit(1);
    },
  );
});
// Connected before saying ready (the client has no offline queue; the store would wait for it anyway).
if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
// Warm the connections the scripts need (a cluster connects to a node on first use).
await redis.get('fleet:warm-up').catch(() => {});
send({ type: 'ready' });
