// Redirects of requests that carry a custom auth header (X-AUTH-TOKEN): fetch would forward it to any
// origin the server points to, so the adapter follows these redirects itself. The real API-key
// strategy against the OpenLoyalty reference server, plus plain local servers that redirect.
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthSession, type AuthSession } from '@auth/core';
import { openLoyaltyApiKey } from '@auth/openloyalty-api-key';
import {
  createOpenLoyaltyServer,
  listen,
  readBody,
  sendJson,
  type OpenLoyaltyEcho,
  type OpenLoyaltyServer,
  type RunningServer,
} from '@auth/testing';
import { createAuthFetch, type AuthFetch } from '../src/index.js';
import { adminSession, startOpenLoyalty, waitFor } from '../../axios-adapter/test/fixtures/servers.js';

const KEY = 'olk_live_redirect_0123456789abcdef';

interface Seen {
  method: string;
  url: string;
  token: string | undefined;
  authorization: string | undefined;
  cookie: string | undefined;
  proxyAuthorization: string | undefined;
  contentType: string | undefined;
  mine: string | undefined;
  body: string;
}

interface Hops extends RunningServer {
  /** Every request that reached this server, with the headers that matter here. */
  readonly seen: Seen[];
  /** Where `/loop` redirects to (set once both servers run). */
  peer: string;
}

/**
 * `/r?status=302&to=<url>` answers that redirect; `/loop` redirects to the peer's `/loop`; `/hang`
 * never answers; `/no-location` is a 302 without `Location`; `/denied` is a 401; anything else is 200 `{ at }`.
 */
async function startHops(): Promise<Hops> {
  const seen: Seen[] = [];
  let hops: Hops | undefined;
  const running = await listen(async (req, res) => {
    const h = (name: string) => req.headers[name] as string | undefined;
    seen.push({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      token: h('x-auth-token'),
      authorization: h('authorization'),
      cookie: h('cookie'),
      proxyAuthorization: h('proxy-authorization'),
      contentType: h('content-type'),
      mine: h('x-mine'),
      body: await readBody(req),
    });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/r') {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to')! });
      return void res.end();
    }
    if (url.pathname === '/loop') {
      res.writeHead(302, { location: `${hops!.peer}/loop` });
      return void res.end();
    }
    if (url.pathname === '/hang') return;
    if (url.pathname === '/denied') return void sendJson(res, 401, { code: 401 });
    if (url.pathname === '/no-location') {
      res.writeHead(302, { 'content-type': 'text/plain' });
      return void res.end('no location');
    }
    sendJson(res, 200, { at: url.pathname });
  });
  return (hops = Object.assign(running, { seen, peer: '' }));
}

/** A URL on `server` that answers `status` with `Location: target`. */
const via = (server: RunningServer, target: string, status = 302) =>
  `${server.url}/r?status=${status}&to=${encodeURIComponent(target)}`;
const paths = (hops: Hops) => hops.seen.map((s) => new URL(s.url, 'http://x').pathname);

describe('createAuthFetch: redirects of a custom auth header', () => {
  let ol: OpenLoyaltyServer;
  let allowed: Hops;
  let other: Hops;
  let session: AuthSession;
  let authFetch: AuthFetch;

  beforeEach(async () => {
    [ol, allowed, other] = await Promise.all([
      createOpenLoyaltyServer({ apiKeys: [{ key: KEY }] }),
      startHops(),
      startHops(),
    ]);
    allowed.peer = other.url;
    other.peer = allowed.url;
    // The key belongs to the OpenLoyalty origin; `allowed` is another origin the caller trusts.
    session = createAuthSession(openLoyaltyApiKey({ baseUrl: ol.url, apiKey: KEY }));
    authFetch = createAuthFetch(session, { origins: [allowed.url] });
  });
  afterEach(async () => {
    session.close();
    await Promise.all([ol.close(), allowed.close(), other.close()]);
  });

  const echo = async (res: Response) => (await res.json()) as OpenLoyaltyEcho;

  it('a redirect from an allowed origin to another origin reaches it without X-AUTH-TOKEN; the caller gets its answer', async () => {
    // A cold session (full path), then a cached key (fast path), with each redirect status and input form.
    const target = (n: number) => `${other.url}/landing${n}`;
    const inputs: [RequestInfo | URL, RequestInit?][] = [
      [via(allowed, target(0))],
      [via(allowed, target(1), 301)],
      [new URL(via(allowed, target(2), 303))],
      [via(allowed, target(3), 307), { headers: { 'X-Auth-Token': 'the-callers-own', 'x-mine': '1' } }],
      [new Request(via(allowed, target(4), 308), { headers: { 'X-AUTH-TOKEN': 'the-callers-own', 'x-mine': '1' } })],
    ];
    for (const [i, [input, init]] of inputs.entries()) {
      const res = await authFetch(input, init);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ at: `/landing${i}` });
      expect(res.url).toBe(target(i));
      expect(res.redirected).toBe(true);
    }
    expect(allowed.seen.map((s) => s.token)).toEqual([KEY, KEY, KEY, KEY, KEY]);
    expect(other.seen.map((s) => [s.url, s.token])).toEqual([0, 1, 2, 3, 4].map((i) => [`/landing${i}`, undefined]));
    expect(other.seen.map((s) => s.mine)).toEqual([undefined, undefined, undefined, '1', '1']);

    // Through a limiter too (the full path for every request).
    const limited = createAuthFetch(session, { origins: [allowed.url], limiter: { maxConcurrent: 1 } });
    expect((await limited(via(allowed, `${other.url}/limited`))).status).toBe(200);
    expect(other.seen.at(-1)).toMatchObject({ url: '/limited', token: undefined });
  });

  it('a redirect within the allowed origins keeps the key; once a chain went to another origin, no later hop gets it back', async () => {
    const same = await authFetch(via(allowed, `${allowed.url}/same-origin`));
    expect(await same.json()).toEqual({ at: '/same-origin' });
    expect(allowed.seen.map((s) => [paths(allowed)[allowed.seen.indexOf(s)], s.token])).toEqual([
      ['/r', KEY],
      ['/same-origin', KEY],
    ]);

    // Back on an allowed origin after another one: no key (else the other origin would choose the
    // method, path and body of a request sent with it, a 307 to an endpoint of its choice). The
    // OpenLoyalty echo at the end answers 401, handed back as it is: it says nothing of the key.
    const res = await authFetch(via(allowed, via(other, via(allowed, `${ol.url}/api/echo`))));
    expect(res.status).toBe(401);
    expect(allowed.seen.slice(2).map((s) => s.token)).toEqual([KEY, undefined]);
    expect(other.seen.map((s) => [paths(other)[0], s.token])).toEqual([['/r', undefined]]);
    expect(ol.counters).toMatchObject({ apiCalls: 1, apiRejected: 1 });

    // A hop that options.skip excludes goes without the key as well.
    const skipping = createAuthFetch(session, { origins: [allowed.url], skip: (url) => url.pathname === '/skipped' });
    expect((await skipping(via(allowed, `${allowed.url}/skipped`))).status).toBe(200);
    expect(allowed.seen.slice(-2).map((s) => s.token)).toEqual([KEY, undefined]);
  });

  it('303 after a POST becomes a GET without body or body headers; 301/302 change only a POST; 307 and 308 keep method and body', async () => {
    const headers = {
      'content-type': 'application/json',
      'content-language': 'en',
      'x-mine': '1',
      authorization: 'Basic callers-own',
      cookie: 'sid=1',
      'proxy-authorization': 'Basic proxy',
    };
    const body = JSON.stringify({ hello: 'world' });
    const cases: [string, number, string, RequestInit | Request, Partial<Seen>][] = [
      ['/303', 303, 'POST', { method: 'POST', headers, body }, { method: 'GET', body: '', contentType: undefined }],
      ['/302', 302, 'POST', { method: 'POST', headers, body }, { method: 'GET', body: '', contentType: undefined }],
      [
        '/302-put',
        302,
        'PUT',
        { method: 'PUT', headers, body },
        { method: 'PUT', body, contentType: 'application/json' },
      ],
      [
        '/307',
        307,
        'POST',
        { method: 'POST', headers, body },
        { method: 'POST', body, contentType: 'application/json' },
      ],
      [
        '/308-request',
        308,
        'POST',
        new Request('http://placeholder', { method: 'POST', headers, body }),
        { method: 'POST', body, contentType: 'application/json' },
      ],
    ];
    for (const [path, status, method, init, expected] of cases) {
      const url = via(allowed, `${other.url}${path}`, status);
      const res = init instanceof Request ? await authFetch(new Request(url, init)) : await authFetch(url, init);
      expect(res.status).toBe(200);
      expect(allowed.seen.at(-1)).toMatchObject({
        method,
        body,
        token: KEY,
        authorization: 'Basic callers-own',
        cookie: 'sid=1',
      });
      // Another origin: no key, and none of the credentials fetch drops on a cross-origin redirect.
      expect(other.seen.at(-1)).toMatchObject({
        url: path,
        ...expected,
        token: undefined,
        authorization: undefined,
        cookie: undefined,
        proxyAuthorization: undefined,
        mine: '1',
      });
    }

    // 307 onto the OpenLoyalty origin: the same POST and body, with the key.
    const res = await authFetch(via(allowed, `${ol.url}/api/echo?q=1`, 307), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const e = await echo(res);
    expect([e.method, e.body, e.query, e.user.kind]).toEqual(['POST', body, { q: '1' }, 'api-key']);
  });

  it('a ReadableStream body cannot follow a 307 (a TypeError, as fetch); a 303 drops it and goes on', async () => {
    const stream = () =>
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('streamed'));
          c.close();
        },
      });
    const error = await authFetch(via(allowed, `${other.url}/307`, 307), {
      method: 'POST',
      body: stream(),
      duplex: 'half',
    } as RequestInit).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(allowed.seen).toEqual([expect.objectContaining({ method: 'POST', body: 'streamed', token: KEY })]);
    expect(other.seen).toEqual([]);

    const res = await authFetch(via(allowed, `${other.url}/303`, 303), {
      method: 'POST',
      body: stream(),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(other.seen).toEqual([expect.objectContaining({ method: 'GET', body: '', token: undefined })]);
  });

  it('more than 20 redirects reject with a TypeError, after 21 requests, none of them leaking the key', async () => {
    const error = await authFetch(`${allowed.url}/loop`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(/redirect count exceeded/);
    expect([allowed.seen.length, other.seen.length]).toEqual([11, 10]);
    expect(allowed.seen.map((s) => s.token)).toEqual([KEY, ...Array<undefined>(10).fill(undefined)]);
    expect(other.seen.every((s) => s.token === undefined)).toBe(true);
    expect(inspect(error, { depth: 8 }) + String(error)).not.toContain(KEY);
  });

  it('an abort during a redirect chain rejects at once', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = authFetch(via(allowed, via(other, `${other.url}/hang`)), { signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    await waitFor(() => paths(other).includes('/hang'), 'the hop that hangs');
    controller.abort();
    const error = await pending;
    expect((error as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(other.seen.map((s) => s.token)).toEqual([undefined, undefined]);
  });

  it('returns a 3xx without Location as it is, first hop or last', async () => {
    const direct = await authFetch(`${allowed.url}/no-location`);
    expect([direct.status, await direct.text(), direct.redirected]).toEqual([302, 'no location', false]);
    const res = await authFetch(via(allowed, `${other.url}/no-location`, 307));
    expect([res.status, await res.text(), res.redirected]).toEqual([302, 'no location', true]);
    expect(other.seen).toEqual([expect.objectContaining({ url: '/no-location', token: undefined })]);
  });

  it('a 401 at the end of a chain within the allowed origins is replayed once, from the original URL; one from where the key did not go is handed back', async () => {
    ol.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 401 }, times: 1 });
    const start = via(allowed, `${ol.url}/api/echo`);
    const res = await authFetch(start);
    expect(res.status).toBe(200);
    expect((await echo(res)).user.kind).toBe('api-key');
    expect(paths(allowed)).toEqual(['/r', '/r']);
    expect(ol.counters).toMatchObject({ apiCalls: 2, apiRejected: 0 });

    // Rejected every time: one replay, then the 401 is the answer.
    ol.removeApiKey(KEY);
    const rejected = await authFetch(start);
    expect(rejected.status).toBe(401);
    expect(paths(allowed)).toHaveLength(4);
    expect(ol.counters).toMatchObject({ apiCalls: 4, apiRejected: 2 });

    // Through another origin the key is not sent on: its 401 is nobody's verdict on the key, and
    // the request is not sent again.
    const elsewhere = await authFetch(via(allowed, `${other.url}/denied`));
    expect(elsewhere.status).toBe(401);
    expect(paths(other).filter((p) => p === '/denied')).toHaveLength(1);
    expect(other.seen.every((s) => s.token === undefined)).toBe(true);
  });

  it('a redirect to a URL with credentials in it rejects with a TypeError that holds no URL', async () => {
    const target = new URL(`${other.url}/x`);
    target.username = 'user';
    target.password = 'secret-pw';
    const error = await authFetch(via(allowed, target.href)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as Error).message)).not.toContain('secret-pw');
    expect(other.seen).toHaveLength(0);
  });

  it("leaves the caller's own redirect mode alone: 'manual' returns the 3xx untouched, 'error' rejects", async () => {
    const url = via(allowed, `${other.url}/not-followed`);
    for (const res of [
      await authFetch(url, { redirect: 'manual' }),
      await authFetch(new Request(url, { redirect: 'manual' })),
    ]) {
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(`${other.url}/not-followed`);
      expect(res.redirected).toBe(false);
    }
    expect(await authFetch(url, { redirect: 'error' }).catch((e: unknown) => e)).toBeInstanceOf(TypeError);
    expect(other.seen).toEqual([]);
    expect(allowed.seen.map((s) => s.token)).toEqual([KEY, KEY, KEY]);

    // By default the same URL is followed, without the key on the other origin.
    expect((await authFetch(url)).status).toBe(200);
    expect(other.seen).toEqual([expect.objectContaining({ url: '/not-followed', token: undefined })]);
  });

  it('an Authorization-only (Bearer) strategy keeps the fast path: sent at once, redirects left to fetch', async () => {
    const server = await startOpenLoyalty();
    const bearer = await adminSession(server);
    try {
      const modes: (string | undefined)[] = [];
      const spy = (input: RequestInfo | URL, init?: RequestInit) => {
        modes.push(init?.redirect);
        return fetch(input, init);
      };
      await bearer.getToken();
      const bearerFetch = createAuthFetch(bearer, { origins: [allowed.url], fetch: spy });
      const pending = bearerFetch(via(allowed, `${other.url}/from-bearer`));
      // Sent synchronously, without a redirect mode of its own: the base fetch follows.
      expect(modes).toEqual([undefined]);
      expect((await pending).status).toBe(200);
      expect(modes).toEqual([undefined]);
      expect(allowed.seen.at(-1)?.authorization).toMatch(/^Bearer /);
      expect(other.seen.at(-1)).toMatchObject({ url: '/from-bearer', authorization: undefined });

      // The X-AUTH-TOKEN strategy, over the same spy: every hop sent in manual mode, the first one at once too.
      modes.length = 0;
      await session.getToken();
      const keyFetch = createAuthFetch(session, { origins: [allowed.url], fetch: spy });
      const keyed = keyFetch(via(allowed, `${other.url}/from-key`));
      expect(modes).toEqual(['manual']);
      expect((await keyed).status).toBe(200);
      expect(modes).toEqual(['manual', 'manual']);
      expect(other.seen.at(-1)).toMatchObject({ url: '/from-key', token: undefined });
    } finally {
      bearer.close();
      await server.close();
    }
  });

  it('a runtime that answers manual redirects opaquely (as browsers do) is left to follow redirects from then on', async () => {
    const modes: (string | undefined)[] = [];
    // Stands in for a browser's fetch: the real exchange, its manual redirect answered as an opaque one.
    const browserLike = async (input: RequestInfo | URL, init?: RequestInit) => {
      modes.push(init?.redirect);
      const res = await fetch(input, init);
      if (init?.redirect === 'manual' && res.status >= 300 && res.status < 400)
        Object.defineProperty(res, 'type', { value: 'opaqueredirect' });
      return res;
    };
    const f = createAuthFetch(session, { origins: [allowed.url], fetch: browserLike });
    const opaque = await f(via(allowed, `${allowed.url}/first`));
    expect(opaque.type).toBe('opaqueredirect');
    expect(paths(allowed)).toEqual(['/r']);
    expect((await f(via(allowed, `${allowed.url}/second`))).status).toBe(200);
    expect(modes).toEqual(['manual', undefined]);
    expect(paths(allowed)).toEqual(['/r', '/r', '/second']);
  });
});
