// Issue 11 (adapter items): redirects out of the adapter's sight, answers reached without the token,
// the token left in the transport's object graph, and a request's own deadline over the adapter's waits.
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import Bottleneck from 'bottleneck';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthSession, type AuthSession } from '@auth/core';
import { openLoyaltyAdmin } from '@auth/openloyalty-admin';
import { openLoyaltyApiKey } from '@auth/openloyalty-api-key';
import { listen, sendJson, type OpenLoyaltyServer, type RunningServer } from '@auth/testing';
import { attachAuth } from '../src/index.js';
import { adminSession, RATE_WINDOW_MS, startOpenLoyalty } from './fixtures/servers.js';

// follow-redirects as axios itself loads it (a common `transport`).
const followRedirects = createRequire(createRequire(import.meta.url).resolve('axios'))('follow-redirects') as {
  http: unknown;
};

/**
 * Every place (own properties, symbols, non-enumerable ones, Map/Set entries, bytes) within `maxDepth` of `root` that
 * holds `needle`.
 */
function pathsTo(root: unknown, needle: string, maxDepth = 10): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string, depth: number): void => {
    if (typeof v === 'string') {
      if (v.includes(needle)) found.push(path);
      return;
    }
    if (!v || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || depth > maxDepth) return;
    seen.add(v);
    if (v instanceof Uint8Array) {
      if (Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1').includes(needle))
        found.push(`${path}<bytes>`);
      return;
    }
    if (v instanceof Map) for (const [k, x] of v) walk(x, `${path}<${String(k)}>`, depth + 1);
    if (v instanceof Set) for (const x of v) walk(x, `${path}<entry>`, depth + 1);
    for (const key of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, key);
      if (d && 'value' in d) walk(d.value, `${path}.${String(key)}`, depth + 1);
    }
  };
  walk(root, 'error', 0);
  return found;
}

/** A plain server that counts what reaches it and answers 302 to `target()` (or 200 when there is none). */
async function startBouncer(
  target: () => string | undefined,
): Promise<RunningServer & { hits: { url: string; authorization?: string; key?: string }[] }> {
  const hits: { url: string; authorization?: string; key?: string }[] = [];
  const running = await listen((req, res) => {
    hits.push({
      url: req.url ?? '/',
      authorization: req.headers.authorization,
      key: req.headers['x-auth-token'] as string | undefined,
    });
    const to = target();
    if (to) res.writeHead(302, { location: to }).end();
    else sendJson(res, 200, { ok: true });
  });
  return Object.assign(running, { hits });
}

describe('issue 11: the axios adapter', () => {
  let server: OpenLoyaltyServer;
  let session: AuthSession;
  let token: string;

  beforeEach(async () => {
    server = await startOpenLoyalty();
    session = await adminSession(server);
    token = (await session.getToken()).accessToken;
  });
  afterEach(async () => {
    session.close();
    await server.close();
  });

  it('item 2: with transport: followRedirects.http, a strategy header never follows a redirect to another origin (nor any later hop)', async () => {
    let home = '';
    const foreign = await startBouncer(() => undefined);
    const back = await startBouncer(() => `${home}/after`);
    const homeServer = await startBouncer(() => undefined);
    home = homeServer.url;
    const api = await listen((req, res) => {
      if (req.url === '/away') res.writeHead(302, { location: `${foreign.url}/landed` }).end();
      else if (req.url === '/bounce') res.writeHead(302, { location: `${back.url}/return` }).end();
      else if (req.url === '/same') res.writeHead(302, { location: '/done' }).end();
      else sendJson(res, 200, { key: req.headers['x-auth-token'] ?? null });
    });
    const keyed = createAuthSession(openLoyaltyApiKey({ baseUrl: api.url, apiKey: 'olk_live_transport_secret_0123' }));
    try {
      const client = axios.create({ baseURL: api.url, transport: followRedirects.http } as Parameters<
        typeof axios.create
      >[0]);
      attachAuth(client, keyed, { origins: [home] });
      expect((await client.get('/away')).status).toBe(200);
      expect(foreign.hits).toEqual([{ url: '/landed', authorization: undefined, key: undefined }]);
      // Left for another origin, then back to an allowed one: still without the key.
      expect((await client.get('/bounce')).status).toBe(200);
      expect(back.hits).toEqual([{ url: '/return', authorization: undefined, key: undefined }]);
      expect(homeServer.hits).toEqual([{ url: '/after', authorization: undefined, key: undefined }]);
      // A redirect within the origin keeps it (the hop is seen and allowed).
      const same = await client.get<{ key: string | null }>('/same');
      expect(same.data.key).toBe('olk_live_transport_secret_0123');
      expect((same.config as { transport?: unknown }).transport).toBe(followRedirects.http);
    } finally {
      keyed.close();
      await Promise.all([foreign.close(), back.close(), homeServer.close(), api.close()]);
    }
  });

  it("item 3: API -> foreign origin -> API answering 401 on axios' fetch transport: 5 requests, 0 renewals, 0 replays", async () => {
    const foreign = await startBouncer(() => `${server.url}/api/echo`);
    const entry = await startBouncer(() => `${foreign.url}/hop`);
    try {
      for (const adapter of ['fetch', 'http'] as const) {
        const client = axios.create({ baseURL: entry.url, adapter });
        attachAuth(client, session, { origins: [entry.url] });
        foreign.hits.length = 0;
        server.resetCounters();
        for (let i = 0; i < 5; i += 1) {
          const res = await client.get('/start', { validateStatus: () => true });
          expect([302, 401]).toContain(res.status);
        }
        expect({ adapter, logins: server.counters.logins, refreshes: server.counters.refreshes }).toEqual({
          adapter,
          logins: 0,
          refreshes: 0,
        });
        // No replay went through the foreign origin (each request reached it at most once).
        expect(foreign.hits.length).toBeLessThanOrEqual(5);
        expect(foreign.hits.every((h) => h.authorization === undefined)).toBe(true);
      }
    } finally {
      await Promise.all([foreign.close(), entry.close()]);
    }
  });

  it('item 6: after an HTTP error the token is reachable nowhere from the error, whatever the path (Node transport)', async () => {
    const api = axios.create({ baseURL: server.url });
    attachAuth(api, session);
    const redirector = await listen(
      (_req, res) => void res.writeHead(307, { location: `${server.url}/api/echo` }).end(),
    );
    const viaRedirect = axios.create({ baseURL: redirector.url });
    attachAuth(viaRedirect, session, { origins: [redirector.url] });
    try {
      const errors: AxiosError[] = [];
      server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 500 } });
      errors.push((await api.get('/api/echo').catch((e: unknown) => e)) as AxiosError);
      server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 404 } });
      errors.push((await viaRedirect.post('/go', { a: 1 }).catch((e: unknown) => e)) as AxiosError);
      server.faults.add({ endpoint: 'api', fault: { kind: 'reset' } });
      errors.push((await api.get('/api/echo').catch((e: unknown) => e)) as AxiosError);
      server.faults.add({ endpoint: 'api', fault: { kind: 'delay', ms: 2_000 } });
      errors.push((await api.get('/api/echo', { timeout: 100 }).catch((e: unknown) => e)) as AxiosError);
      expect(errors.map((e) => e.response?.status ?? e.code)).toEqual([500, 404, 'ECONNRESET', 'ECONNABORTED']);
      for (const error of errors) {
        expect(pathsTo(error, token)).toEqual([]);
        expect(pathsTo(error.request, token)).toEqual([]);
        expect(inspect(error.request, { depth: 3 })).not.toContain(token);
        expect(inspect(error, { depth: 5, showHidden: true })).not.toContain(token);
        expect(inspect(error.request, { depth: 5, showHidden: true })).not.toContain(token);
        expect(JSON.stringify(error.toJSON())).not.toContain(token);
        expect(JSON.stringify(error.config)).not.toContain(token);
      }
    } finally {
      await redirector.close();
    }
  });

  describe("item 1: a request's own timeout bounds the adapter's waits", () => {
    const isTimeout = (error: unknown, what: RegExp) => {
      expect(error).toBeInstanceOf(AxiosError);
      const e = error as AxiosError & { cause?: { code?: string } };
      expect(e.code).toBe('ECONNABORTED');
      expect(e.message).toMatch(what);
      expect(e.cause?.code).toBe('TIMEOUT');
    };

    it('waiting for a token (a slow login)', async () => {
      const fresh = createAuthSession(
        openLoyaltyAdmin({
          baseUrl: server.url,
          username: 'admin',
          password: 'password',
          rateLimit: { max: 20, windowMs: RATE_WINDOW_MS },
        }),
      );
      server.faults.add({ endpoint: 'login', fault: { kind: 'delay', ms: 5_000 } });
      const api: AxiosInstance = axios.create({ baseURL: server.url });
      attachAuth(api, fresh);
      try {
        const error = await api.get('/api/echo', { timeout: 300 }).catch((e: unknown) => e);
        isTimeout(error, /timeout of 300ms exceeded while waiting for a token/);
        // Rejected while the login was still on its way.
        expect(fresh.peekToken()).toBeUndefined();
        expect(server.counters.apiCalls).toBe(0);
        // A signal keeps its own meaning.
        const ctl = new AbortController();
        const aborted = api.get('/api/echo', { timeout: 60_000, signal: ctl.signal }).catch((e: unknown) => e);
        ctl.abort();
        expect(((await aborted) as { code?: string }).code).toBe('ABORTED');
      } finally {
        fresh.close();
      }
    });

    it('waiting for a token and then for the limiter: one timeout for both waits, not one each', async () => {
      const fresh = createAuthSession(
        openLoyaltyAdmin({
          baseUrl: server.url,
          username: 'admin',
          password: 'password',
          rateLimit: { max: 20, windowMs: RATE_WINDOW_MS },
        }),
      );
      // The login takes >= 1.5 s; the first request then holds the only slot for >= 1.5 s more.
      server.faults.add({ endpoint: 'login', fault: { kind: 'delay', ms: 1_500 } });
      server.faults.add({ endpoint: 'api', fault: { kind: 'delay', ms: 1_500 } });
      const api = axios.create({ baseURL: server.url });
      attachAuth(api, fresh, { limiter: new Bottleneck({ maxConcurrent: 1 }) });
      try {
        const first = api.get('/api/echo');
        // Its 2 s run out in the limiter, a second before the slot frees. (With a fresh 2 s for the
        // limiter wait it got the slot and was sent.)
        const error = await api.get('/api/echo', { timeout: 2_000 }).catch((e: unknown) => e);
        isTimeout(error, /timeout of 2000ms exceeded while waiting for the rate limiter/);
        expect((await first).status).toBe(200);
        expect(server.counters.apiCalls).toBe(1);
      } finally {
        fresh.close();
      }
    });

    it('waiting for the limiter, and a Retry-After longer than the timeout', async () => {
      const limiter = new Bottleneck({ maxConcurrent: 1 });
      const api = axios.create({ baseURL: server.url });
      attachAuth(api, session, { limiter });
      server.faults.add({ endpoint: 'api', fault: { kind: 'delay', ms: 3_000 } });
      let firstDone = false;
      const first = api.get('/api/echo').finally(() => (firstDone = true));
      const error = await api.get('/api/echo', { timeout: 300 }).catch((e: unknown) => e);
      isTimeout(error, /timeout of 300ms exceeded while waiting for the rate limiter/);
      expect(firstDone).toBe(false);
      await first;
      expect(server.counters.apiCalls).toBe(1);

      server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '20' } } });
      const limited = await api.get('/api/echo', { timeout: 500 }).catch((e: unknown) => e);
      isTimeout(limited, /timeout of 500ms exceeded while waiting out a Retry-After/);
      // The 429 was not retried.
      expect(server.counters.apiCalls).toBe(2);
    });
  });
});
