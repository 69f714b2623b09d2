// Issue 11 (adapter items): answers reached through a hop that did not carry the token, a Request's
// body on redirects and replays, and a request's signal over the adapter's waits.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthSession, type AuthSession } from '@auth/core';
import { openLoyaltyAdmin } from '@auth/openloyalty-admin';
import { openLoyaltyApiKey } from '@auth/openloyalty-api-key';
import {
  listen,
  readBody,
  sendJson,
  type OpenLoyaltyEcho,
  type OpenLoyaltyServer,
  type RunningServer,
} from '@auth/testing';
import { createAuthFetch } from '../src/index.js';
import { adminSession, RATE_WINDOW_MS, startOpenLoyalty } from '../../axios-adapter/test/fixtures/servers.js';

const KEY = 'olk_live_request_body_0123456789';

/** A plain server that counts what reaches it and answers 302 to `target()`. */
async function startBouncer(
  target: () => string,
): Promise<RunningServer & { hits: { url: string; authorization?: string }[] }> {
  const hits: { url: string; authorization?: string }[] = [];
  const running = await listen((req, res) => {
    hits.push({ url: req.url ?? '/', authorization: req.headers.authorization });
    res.writeHead(302, { location: target() }).end();
  });
  return Object.assign(running, { hits });
}

describe('issue 11: the fetch adapter', () => {
  let server: OpenLoyaltyServer;
  let session: AuthSession;

  beforeEach(async () => {
    server = await startOpenLoyalty();
    session = await adminSession(server);
    await session.getToken();
  });
  afterEach(async () => {
    session.close();
    await server.close();
  });

  it('item 3: API -> foreign origin -> API answering 401: 6 requests cost 0 renewals and 0 replays', async () => {
    const foreign = await startBouncer(() => `${server.url}/api/echo`);
    const entry = await startBouncer(() => `${foreign.url}/hop`);
    try {
      const authFetch = createAuthFetch(session, { origins: [entry.url] });
      // A limiter (or a Request) takes the full path, the hot path is the other.
      const limited = createAuthFetch(session, { origins: [entry.url], limiter: { maxConcurrent: 2 } });
      for (let i = 0; i < 6; i += 1) {
        const res = await (i % 2 === 0 ? authFetch : limited)(`${entry.url}/start`);
        expect(res.status).toBe(401);
        expect(res.redirected).toBe(true);
        await res.arrayBuffer();
      }
      expect({
        logins: server.counters.logins,
        refreshes: server.counters.refreshes,
        authCalls: server.counters.authCalls,
      }).toEqual({ logins: 0, refreshes: 0, authCalls: 0 });
      expect(foreign.hits).toHaveLength(6);
      expect(entry.hits.every((h) => h.authorization?.startsWith('Bearer '))).toBe(true);
      expect(foreign.hits.every((h) => h.authorization === undefined)).toBe(true);
      // A 401 answered directly (no redirect) is still a verdict: one renewal, one replay.
      server.revokeAccessTokens();
      expect((await authFetch(`${server.url}/api/echo`)).status).toBe(200);
      expect(server.counters.refreshes).toBe(1);
    } finally {
      await Promise.all([foreign.close(), entry.close()]);
    }
  });

  describe("item 8: a Request's buffered body survives every hop and the replay", () => {
    let hops: RunningServer & { bodies: string[] };
    beforeEach(async () => {
      const bodies: string[] = [];
      const running = await listen(async (req, res) => {
        const body = await readBody(req);
        bodies.push(`${req.method} ${req.url} ${body}`);
        const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status'));
        // `?status=307&here`: to this server's /land; otherwise to the API's echo.
        if (status)
          return void res
            .writeHead(status, { location: req.url?.includes('here') ? '/land' : `${server.url}/api/echo` })
            .end();
        sendJson(res, 200, { method: req.method, body, contentType: req.headers['content-type'] });
      });
      hops = Object.assign(running, { bodies });
    });
    afterEach(() => hops.close());

    for (const status of [307, 308]) {
      it(`a POST Request answered by a ${status}; a 401 after it replayed along the same redirect; a 401 replayed directly`, async () => {
        const payload = JSON.stringify({ a: 1, text: 'é'.repeat(10) });
        const post = (url: string, body: BodyInit) =>
          new Request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        // Bearer: fetch follows the redirect (within the origin) with the buffered body.
        const authFetch = createAuthFetch(session, { origins: [hops.url] });
        const res = await authFetch(post(`${hops.url}/go?status=${status}&here`, payload));
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ method: 'POST', body: payload, contentType: 'application/json' });

        // A custom header (followed here): a 401 at the end of the chain, replayed from the start.
        server.addApiKey({ key: KEY });
        const keyed = createAuthSession(openLoyaltyApiKey({ baseUrl: server.url, apiKey: KEY }));
        try {
          server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 401 }, times: 1 });
          const keyFetch = createAuthFetch(keyed, { origins: [hops.url] });
          const replayed = await keyFetch(post(`${hops.url}/go?status=${status}`, new TextEncoder().encode(payload)));
          expect(replayed.status).toBe(200);
          expect(((await replayed.json()) as OpenLoyaltyEcho).body).toBe(payload);
        } finally {
          keyed.close();
        }
        expect(hops.bodies).toEqual([
          `POST /go?status=${status}&here ${payload}`,
          `POST /land ${payload}`,
          ...[0, 1].map(() => `POST /go?status=${status} ${payload}`),
        ]);

        // Bearer, a 401 straight from the API: renewed once and replayed with the same bytes.
        server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 401 }, times: 1 });
        const direct = await authFetch(post(`${server.url}/api/echo`, new Blob([payload])));
        expect(direct.status).toBe(200);
        expect(((await direct.json()) as OpenLoyaltyEcho).body).toBe(payload);
        expect(server.counters.refreshes).toBe(1);
      });
    }
  });

  describe("item 1: the request's signal bounds every wait the adapter adds", () => {
    it('waiting for a token (a slow login), from init or from the Request', async () => {
      const fresh = createAuthSession(
        openLoyaltyAdmin({
          baseUrl: server.url,
          username: 'admin',
          password: 'password',
          rateLimit: { max: 20, windowMs: RATE_WINDOW_MS },
        }),
      );
      server.faults.add({ endpoint: 'login', fault: { kind: 'delay', ms: 5_000 } });
      try {
        const authFetch = createAuthFetch(fresh);
        const fromInit = await authFetch(`${server.url}/api/echo`, { signal: AbortSignal.timeout(200) }).catch(
          (e: unknown) => e,
        );
        const fromRequest = await authFetch(
          new Request(`${server.url}/api/echo`, { signal: AbortSignal.timeout(200) }),
        ).catch((e: unknown) => e);
        for (const error of [fromInit, fromRequest])
          expect(error).toMatchObject({ code: 'ABORTED', request: { method: 'GET', url: `${server.url}/api/echo` } });
        expect(fresh.peekToken()).toBeUndefined();
        expect(server.counters.apiCalls).toBe(0);
      } finally {
        fresh.close();
      }
    });

    it('waiting for the limiter and waiting out a Retry-After', async () => {
      const authFetch = createAuthFetch(session, { limiter: { maxConcurrent: 1 } });
      server.faults.add({ endpoint: 'api', fault: { kind: 'delay', ms: 3_000 } });
      let firstDone = false;
      const first = authFetch(`${server.url}/api/echo`).finally(() => (firstDone = true));
      const queued = await authFetch(`${server.url}/api/echo`, { signal: AbortSignal.timeout(200) }).catch(
        (e: unknown) => e,
      );
      expect(queued).toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/rate limiter/) });
      expect(firstDone).toBe(false);
      expect((await first).status).toBe(200);
      expect(server.counters.apiCalls).toBe(1);

      server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '20' } } });
      const plain = createAuthFetch(session, { retryRateLimited: { maxRetryAfterMs: 60_000 } });
      const waiting = await plain(new Request(`${server.url}/api/echo`, { signal: AbortSignal.timeout(300) })).catch(
        (e: unknown) => e,
      );
      expect(waiting).toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/429/) });
      expect(server.counters.apiCalls).toBe(2);
    });

    it("a Retry-After beyond setTimeout's range (46 days) is waited out, not retried at once", async () => {
      const warnings: string[] = [];
      const onWarning = (w: Error) => void warnings.push(w.name);
      process.on('warning', onWarning);
      try {
        server.faults.add({
          endpoint: 'api',
          fault: { kind: 'status', status: 429, headers: { 'retry-after': '4000000' } },
        });
        const patient = createAuthFetch(session, { retryRateLimited: { maxRetryAfterMs: Number.POSITIVE_INFINITY } });
        const ctl = new AbortController();
        const waiting = patient(`${server.url}/api/echo`, { signal: ctl.signal }).catch((e: unknown) => e);
        // Before the fix the timer overflowed to 1 ms: the retry was sent at once (and answered 200).
        await new Promise((r) => setTimeout(r, 500));
        ctl.abort();
        expect(await waiting).toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/429/) });
        expect(server.counters.apiCalls).toBe(1);
        expect(warnings).not.toContain('TimeoutOverflowWarning');
      } finally {
        process.off('warning', onWarning);
      }
    });
  });
});
