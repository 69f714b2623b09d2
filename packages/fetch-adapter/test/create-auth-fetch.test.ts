import { inspect } from 'node:util';
import Bottleneck from 'bottleneck';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { AuthError, createAuthSession, isAuthError, type AuthSession } from '@auth/core';
import { openLoyaltyAdmin } from '@auth/openloyalty-admin';
import { createAuthFetch, type AuthFetch } from '../src/index.js';
import { listen, sendJson, type OpenLoyaltyEcho, type OpenLoyaltyServer } from '@auth/testing';
import {
  adminSession,
  startOpenLoyalty,
  startRecorder,
  waitFor,
  type Recorder,
} from '../../axios-adapter/test/fixtures/servers.js';

describe('createAuthFetch', () => {
  let server: OpenLoyaltyServer;
  let third: Recorder;
  let session: AuthSession;
  let authFetch: AuthFetch;
  let token: string;

  beforeEach(async () => {
    [server, third] = await Promise.all([startOpenLoyalty(), startRecorder()]);
    session = await adminSession(server);
    token = (await session.getToken()).accessToken;
    authFetch = createAuthFetch(session);
  });
  afterEach(async () => {
    session.close();
    await Promise.all([server.close(), third.close()]);
  });

  const echo = async (res: Response) => (await res.json()) as OpenLoyaltyEcho;

  it('has exactly the signature of fetch', () => {
    expectTypeOf(authFetch).toEqualTypeOf<(input: RequestInfo | URL, init?: RequestInit) => Promise<Response>>();
    expectTypeOf(createAuthFetch(session)).toMatchTypeOf<typeof fetch>();
  });

  it("replaces the caller's own Authorization (any case, any headers form) and keeps their other headers", async () => {
    for (const headers of [
      { Authorization: 'Bearer stale', 'X-Mine': '1' },
      new Headers({ Authorization: 'Bearer stale', 'X-Mine': '1' }),
      [
        ['AUTHORIZATION', 'Bearer stale'],
        ['X-Mine', '1'],
      ] as [string, string][],
    ]) {
      const res = await authFetch(`${server.url}/api/echo`, { headers });
      expect(res.status).toBe(200);
      const e = await echo(res);
      expect(e.user).toEqual({ kind: 'admin', username: 'admin' });
      expect(e.headers['x-mine']).toBe('1');
    }
  });

  it("keeps headers given as any iterable fetch accepts (a Map, another realm's or a polyfill's Headers)", async () => {
    class ForeignHeaders {
      readonly #entries: [string, string][];
      constructor(entries: [string, string][]) {
        this.#entries = entries;
      }
      *[Symbol.iterator](): IterableIterator<[string, string]> {
        yield* this.#entries;
      }
    }
    for (const headers of [
      new Map([
        ['X-Mine', '1'],
        ['Authorization', 'Bearer stale'],
      ]),
      new ForeignHeaders([
        ['X-Mine', '1'],
        ['Authorization', 'Bearer stale'],
      ]),
    ]) {
      const res = await authFetch(`${server.url}/api/echo`, { headers: headers as unknown as HeadersInit });
      expect(res.status).toBe(200);
      const e = await echo(res);
      expect(e.user).toEqual({ kind: 'admin', username: 'admin' });
      expect(e.headers['x-mine']).toBe('1');
    }
    expect(server.counters.apiRejected).toBe(0);
  });

  it('attaches the token to the strategy origin, for a string, a URL and a Request', async () => {
    for (const input of [
      `${server.url}/api/echo`,
      new URL(`${server.url}/api/echo`),
      new Request(`${server.url}/api/echo`, { headers: { 'x-mine': '1' } }),
    ]) {
      const res = await authFetch(input);
      expect(res.status).toBe(200);
      const e = await echo(res);
      expect(e.headers.authorization).toBe('[present]');
    }
    expect(server.counters.apiRejected).toBe(0);
  });

  it('keeps the caller headers', async () => {
    const e = await echo(
      await authFetch(`${server.url}/api/echo`, { headers: { 'x-custom': 'yes', accept: 'application/json' } }),
    );
    expect(e.headers['x-custom']).toBe('yes');
    const r = await echo(
      await authFetch(new Request(`${server.url}/api/echo`, { headers: { 'x-from-request': 'r' } })),
    );
    expect(r.headers['x-from-request']).toBe('r');
  });

  it('never sends the token to another origin', async () => {
    await authFetch(`${third.url}/string`);
    await authFetch(new URL(`${third.url}/url`));
    await authFetch(new Request(`${third.url}/request`));
    await authFetch(`${third.url}/post`, { method: 'POST', body: 'x' });
    expect(third.seen.map((s) => s.url)).toEqual(['/string', '/url', '/request', '/post']);
    expect(third.seen.every((s) => s.authorization === undefined)).toBe(true);
  });

  it('a redirect from an allowed origin to another origin does not carry the token', async () => {
    const redirector = await listen((_req, res) => {
      res.writeHead(302, { location: `${third.url}/redirected` });
      res.end();
    });
    try {
      const f = createAuthFetch(session, { origins: [redirector.url] });
      expect((await f(`${redirector.url}/go`)).status).toBe(200);
      expect(third.seen).toEqual([expect.objectContaining({ url: '/redirected', authorization: undefined })]);
    } finally {
      await redirector.close();
    }
  });

  it('sends the token to origins added with options.origins, and not to skipped requests', async () => {
    const f = createAuthFetch(session, { origins: [third.url], skip: (url) => url.pathname === '/skipped' });
    await f(`${third.url}/allowed`);
    await f(`${third.url}/skipped`);
    expect(third.seen.map((s) => s.authorization)).toEqual([`Bearer ${token}`, undefined]);
  });

  it('an origin removed from options.origins after creation no longer gets the token, even for a URL already seen', async () => {
    const origins = [third.url];
    const f = createAuthFetch(session, { origins });
    await f(`${third.url}/seen`);
    origins.length = 0;
    await f(`${third.url}/seen`);
    expect(third.seen.map((s) => s.authorization)).toEqual([`Bearer ${token}`, undefined]);
  });

  it('leaves the auth endpoints alone: no token, and a 401 there is not a reason to refresh', async () => {
    const res = await authFetch(`${server.url}/api/admin/login_check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'wrong' }),
    });
    expect(res.status).toBe(401);
    expect(server.counters.authCalls).toBe(1);
  });

  it('replays once with the new token after a revoked token; same method, URL and body', async () => {
    server.revokeAccessTokens();
    const res = await authFetch(`${server.url}/api/echo?q=1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    const e = await echo(res);
    expect(e.method).toBe('PUT');
    expect(e.query).toEqual({ q: '1' });
    expect(JSON.parse(e.body)).toEqual({ hello: 'world' });
    expect(server.counters.apiRejected).toBe(1);
    expect(server.counters.refreshes).toBe(1);
  });

  describe('bodies survive the replay', () => {
    const form = () => {
      const f = new FormData();
      f.append('field', 'value');
      f.append('file', new Blob(['file-content'], { type: 'text/plain' }), 'f.txt');
      return f;
    };
    const cases: [string, () => { input?: Request; init?: RequestInit }, (e: OpenLoyaltyEcho) => void][] = [
      [
        'JSON',
        () => ({ init: { body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } } }),
        (e) => expect(JSON.parse(e.body)).toEqual({ a: 1 }),
      ],
      [
        'URL-encoded',
        () => ({ init: { body: new URLSearchParams({ a: '1', b: 'x y' }) } }),
        (e) => {
          expect(e.body).toBe('a=1&b=x+y');
          expect(e.contentType).toMatch(/^application\/x-www-form-urlencoded/);
        },
      ],
      [
        'FormData',
        () => ({ init: { body: form() } }),
        (e) => {
          expect(e.contentType).toMatch(/^multipart\/form-data; boundary=/);
          expect(e.body).toContain('name="field"\r\n\r\nvalue');
          expect(e.body).toContain('file-content');
        },
      ],
      [
        'Blob',
        () => ({ init: { body: new Blob(['blob-body'], { type: 'text/plain' }) } }),
        (e) => {
          expect(e.body).toBe('blob-body');
          expect(e.contentType).toBe('text/plain');
        },
      ],
      [
        'ArrayBuffer',
        () => ({ init: { body: new Uint8Array([0xff, 0, 1]).buffer } }),
        (e) => expect(Buffer.from(e.body, 'base64')).toEqual(Buffer.from([0xff, 0, 1])),
      ],
      [
        'Uint8Array',
        () => ({ init: { body: new Uint8Array([0xfe, 2]) } }),
        (e) => expect(Buffer.from(e.body, 'base64')).toEqual(Buffer.from([0xfe, 2])),
      ],
      [
        'a Request with a body',
        () => ({
          input: new Request('http://placeholder', {
            method: 'POST',
            body: 'in-request',
            headers: { 'content-type': 'text/x-mine' },
          }),
        }),
        (e) => {
          expect(e.body).toBe('in-request');
          expect(e.contentType).toBe('text/x-mine');
        },
      ],
    ];
    for (const [name, make, check] of cases) {
      it(name, async () => {
        server.revokeAccessTokens();
        const { input, init } = make();
        const url = `${server.url}/api/echo`;
        const res = input
          ? await authFetch(new Request(url, input))
          : await authFetch(url, { method: 'POST', ...init });
        expect(res.status).toBe(200);
        const e = await echo(res);
        expect(e.method).toBe('POST');
        check(e);
        expect(server.counters.apiRejected).toBe(1);
        expect(server.counters.apiCalls).toBe(2);
      });
    }
  });

  it('a ReadableStream body is sent once: the rejected answer is returned as is', async () => {
    server.revokeAccessTokens();
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('once'));
        c.close();
      },
    });
    const res = await authFetch(`${server.url}/api/echo`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(401);
    expect(server.counters.apiCalls).toBe(1);
    // The rejection was still reported: the next request gets a renewed token, with one refresh in all.
    expect((await authFetch(`${server.url}/api/echo`)).status).toBe(200);
    expect(server.counters.refreshes).toBe(1);
  });

  it('passes a 403 through without a refresh', async () => {
    server.faults.add({
      endpoint: 'api',
      fault: { kind: 'status', status: 403, body: { code: 403, message: 'Forbidden.' } },
    });
    const res = await authFetch(`${server.url}/api/echo`);
    expect(res.status).toBe(403);
    expect(server.counters.authCalls).toBe(0);
    expect(server.counters.apiCalls).toBe(1);
  });

  it('returns the server answer when the replay is rejected again (no loop)', async () => {
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 401 }, times: 2 });
    const res = await authFetch(`${server.url}/api/echo`);
    expect(res.status).toBe(401);
    expect(server.counters.apiCalls).toBe(2);
    expect(server.counters.refreshes).toBe(1);
  });

  it('a failed login rejects with the core typed error, with the request attached and no secret', async () => {
    const bad = await adminSession(server, { password: 'wrong-password' });
    const f = createAuthFetch(bad);
    server.revokeAccessTokens();
    server.expireRefreshTokens();
    const error = await f(`${server.url}/api/echo`, { method: 'post', body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('CREDENTIALS_REJECTED');
    expect((error as AuthError & { request?: unknown }).request).toEqual({
      method: 'POST',
      url: `${server.url}/api/echo`,
    });
    const printed = inspect(error, { depth: 8 }) + JSON.stringify(error);
    expect(printed).not.toContain('wrong-password');
    expect(printed).not.toContain(token);
    bad.close();
  });

  it('aborting while the refresh is in flight rejects that request at once; the others go on', async () => {
    server.revokeAccessTokens();
    server.faults.add({ endpoint: 'refresh', fault: { kind: 'delay', ms: 1_000 } });
    const controller = new AbortController();
    const aborted = authFetch(`${server.url}/api/echo`, { signal: controller.signal }).catch((e: unknown) => e);
    const other = authFetch(`${server.url}/api/echo`);
    await waitFor(() => server.counters.authCalls === 1, 'the refresh to start');
    controller.abort();
    const error = await aborted;
    expect(server.counters.refreshes).toBe(0);
    expect(isAuthError(error) && error.code).toBe('ABORTED');
    expect((await other).status).toBe(200);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.apiCalls).toBe(3);
  });

  it('an already aborted signal rejects without a request', async () => {
    const error = await authFetch(`${server.url}/api/echo`, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(isAuthError(error) || (error as Error).name === 'AbortError').toBe(true);
    expect(server.counters.apiCalls).toBe(0);
  });

  it("an already aborted signal rejects as fetch does, with the signal's reason (cached token or none, init or Request)", async () => {
    const reason = new Error('gone');
    const signal = AbortSignal.abort(reason);
    const url = `${server.url}/api/echo`;
    // No token yet: no login either.
    const fresh = createAuthFetch(
      createAuthSession(openLoyaltyAdmin({ baseUrl: server.url, username: 'admin', password: 'password' })),
    );
    const logins = server.counters.logins;
    expect(await fresh(url, { signal }).catch((e: unknown) => e)).toBe(reason);
    expect(await fresh(new Request(url, { signal })).catch((e: unknown) => e)).toBe(reason);
    expect(server.counters.logins).toBe(logins);
    await session.getToken();
    expect(await authFetch(url, { signal }).catch((e: unknown) => e)).toBe(reason);
    expect(await authFetch(new Request(url, { signal })).catch((e: unknown) => e)).toBe(reason);
    const plain = (await authFetch(url, { signal: AbortSignal.abort() }).catch((e: unknown) => e)) as Error;
    expect(plain.name).toBe('AbortError');
    expect(isAuthError(plain)).toBe(false);
    expect(server.counters.apiCalls).toBe(0);
  });

  it('schedules through Bottleneck: concurrency is capped and an aborted request leaves the queue at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const paths: string[] = [];
    const slow = await listen(async (req, res) => {
      paths.push(req.url ?? '');
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight -= 1;
      sendJson(res, 200, { url: req.url });
    });
    try {
      const limited = createAuthFetch(session, { origins: [slow.url], limiter: { maxConcurrent: 2 } });
      // A job lasts until the headers arrive; reading the body is the caller's business.
      const all = await Promise.all(
        Array.from({ length: 12 }, (_, i) => limited(`${slow.url}/r${i}`).then((r) => r.json())),
      );
      expect(all).toHaveLength(12);
      expect(maxInFlight).toBe(2);

      const one = createAuthFetch(session, { origins: [slow.url], limiter: new Bottleneck({ maxConcurrent: 1 }) });
      const blocker = one(`${slow.url}/blocker`);
      const controller = new AbortController();
      const queued = one(`${slow.url}/queued`, { signal: controller.signal }).catch((e: unknown) => e);
      controller.abort();
      expect(((await queued) as AuthError).code).toBe('ABORTED');
      expect((await blocker).status).toBe(200);
      expect((await one(`${slow.url}/after`)).status).toBe(200);
      expect(paths).not.toContain('/queued');
    } finally {
      await slow.close();
    }
  });

  it('retries a 429 after Retry-After, bounded, and can be turned off', async () => {
    const url = `${server.url}/api/echo`;
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } } });
    expect((await authFetch(url, { method: 'POST', body: 'again' })).status).toBe(200);
    expect(server.counters.apiCalls).toBe(2);

    server.resetCounters();
    server.faults.add({
      endpoint: 'api',
      fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } },
      times: 5,
    });
    expect((await authFetch(url)).status).toBe(429);
    expect(server.counters.apiCalls).toBe(3);
    server.faults.clear();

    server.resetCounters();
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } } });
    expect((await authFetch(url)).status).toBe(429);
    expect(server.counters.apiCalls).toBe(1);

    server.resetCounters();
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } } });
    expect((await createAuthFetch(session, { retryRateLimited: false })(url)).status).toBe(429);
    expect(server.counters.apiCalls).toBe(1);
  });

  it('aborting while it waits out a Retry-After rejects at once, and nothing more is sent', async () => {
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } } });
    let got429 = false;
    // An hour's Retry-After, allowed: only the abort can end this request within the test's time.
    const f = createAuthFetch(session, {
      retryRateLimited: { maxRetryAfterMs: 3_600_000 },
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        got429 ||= res.status === 429;
        return res;
      },
    });
    const controller = new AbortController();
    const pending = f(`${server.url}/api/echo`, { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => got429, 'the 429 to arrive');
    controller.abort();
    expect(((await pending) as AuthError).code).toBe('ABORTED');
    expect(server.counters.apiCalls).toBe(1);
  });

  it('uses the injected base fetch', async () => {
    const seen: string[] = [];
    const f = createAuthFetch(session, {
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers).get('authorization') ?? 'none');
        return fetch(input, init);
      },
    });
    expect((await f(`${server.url}/api/echo`)).status).toBe(200);
    await f(`${third.url}/x`);
    expect(seen).toEqual([`Bearer ${token}`, 'none']);
  });
});
