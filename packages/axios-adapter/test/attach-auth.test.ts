import { inspect } from 'node:util';
import axios, { AxiosError, type AxiosHeaders, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import Bottleneck from 'bottleneck';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, createAuthSession, isAuthError, type AuthSession } from '@auth/core';
import { openLoyaltyApiKey } from '@auth/openloyalty-api-key';
import { attachAuth } from '../src/index.js';
import { listen, sendJson, type OpenLoyaltyEcho, type OpenLoyaltyServer } from '@auth/testing';
import { adminSession, startOpenLoyalty, startRecorder, waitFor, type Recorder } from './fixtures/servers.js';

describe('attachAuth', () => {
  let server: OpenLoyaltyServer;
  let third: Recorder;
  let session: AuthSession;
  let api: AxiosInstance;
  let token: string;

  beforeEach(async () => {
    [server, third] = await Promise.all([startOpenLoyalty(), startRecorder()]);
    session = await adminSession(server);
    token = (await session.getToken()).accessToken;
    api = axios.create({ baseURL: server.url });
    attachAuth(api, session);
  });
  afterEach(async () => {
    session.close();
    await Promise.all([server.close(), third.close()]);
  });

  it('attaches the token to the strategy origin', async () => {
    const { data } = await api.get<OpenLoyaltyEcho>('/api/echo');
    expect(data.headers.authorization).toBe('[present]');
    expect(data.user).toEqual({ kind: 'admin', username: 'admin' });
  });

  it("replaces an instance default's Authorization (another case) instead of sending two", async () => {
    const stale = axios.create({ baseURL: server.url, headers: { Authorization: 'Bearer stale-token' } });
    attachAuth(stale, session);
    const res = await stale.get<OpenLoyaltyEcho>('/api/echo');
    expect(res.status).toBe(200);
    expect(res.data.user).toEqual({ kind: 'admin', username: 'admin' });
    const names = Object.keys(res.config.headers.toJSON()).filter((n) => n.toLowerCase() === 'authorization');
    expect(names).toEqual(['authorization']);
    expect(res.config.headers.get('authorization')).toBe(`Bearer ${token}`);
  });

  it('never sends the token to another origin, whatever the URL form', async () => {
    const host = new URL(third.url).host;
    await api.get(`${third.url}/absolute`);
    // Protocol-relative: Node axios cannot send it at all (no page to resolve against); no token either way.
    await expect(api.get(`//${host}/protocol-relative`)).rejects.toThrow();
    await api.get('/via-base', { baseURL: third.url });
    await api.post(`${third.url}/post`, { a: 1 });
    // allowAbsoluteUrls: false makes axios send an absolute url to the base: the token goes where axios goes.
    const { data } = await api.get<OpenLoyaltyEcho>('/api/echo', { allowAbsoluteUrls: false });
    expect(data.headers.authorization).toBe('[present]');
    // An absolute third-party url with allowAbsoluteUrls: false goes to the base on axios >= 1.8 but as it is
    // on older versions: no token either way.
    const combined = await api.get(`${third.url}/x`, { allowAbsoluteUrls: false, validateStatus: () => true });
    expect(combined.status).toBe(404);
    expect(combined.config.headers.has('authorization')).toBe(false);
    const shared = axios.create();
    attachAuth(shared, session);
    await shared.get(`${third.url}/shared`);
    expect((await shared.get<OpenLoyaltyEcho>(`${server.url}/api/echo`)).data.headers.authorization).toBe('[present]');
    expect(third.seen.map((s) => s.url)).toEqual(['/absolute', '/via-base', '/post', '/shared']);
    expect(third.seen.every((s) => s.authorization === undefined)).toBe(true);
  });

  it('a redirect from an allowed origin to another origin does not carry the token', async () => {
    const redirector = await listen((_req, res) => {
      res.writeHead(302, { location: `${third.url}/redirected` });
      res.end();
    });
    try {
      const r = axios.create({ baseURL: redirector.url });
      attachAuth(r, session, { origins: [redirector.url] });
      expect((await r.get('/go')).status).toBe(200);
      expect(third.seen).toEqual([expect.objectContaining({ url: '/redirected', authorization: undefined })]);
    } finally {
      await redirector.close();
    }
  });

  it("with a valid cached token the request is on its way before get() returns (axios' synchronous path)", async () => {
    let handedOver = false;
    const http = axios.getAdapter('http');
    const direct = axios.create({ baseURL: server.url, adapter: (config) => ((handedOver = true), http(config)) });
    attachAuth(direct, session);
    const pending = direct.get<OpenLoyaltyEcho>('/api/echo');
    expect(handedOver).toBe(true);
    expect((await pending).data.headers.authorization).toBe('[present]');
  });

  it('the token is taken as the request is sent: one renewed while an interceptor of the caller waits is the one sent (no 401 round trip)', async () => {
    const api2 = axios.create({ baseURL: server.url });
    let reject = true;
    // Added before attachAuth: with axios' default order it runs after ours, asynchronously.
    api2.interceptors.request.use(async (config) => {
      if (reject) {
        reject = false;
        server.revokeAccessTokens();
        void session.tokenRejected(token).catch(() => {});
        await new Promise((r) => setTimeout(r, 20));
      }
      return config;
    });
    attachAuth(api2, session);
    const res = await api2.get<OpenLoyaltyEcho>('/api/echo');
    expect(res.status).toBe(200);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.apiRejected).toBe(0);
    expect(server.counters.apiCalls).toBe(1);
  });

  it("a request's own adapter and beforeRedirect are used, and are the caller's again once it settles", async () => {
    const http = axios.getAdapter('http');
    let used = 0;
    const adapter = (config: InternalAxiosRequestConfig) => ((used += 1), http(config));
    const beforeRedirect = () => {};
    const res = await api.get<OpenLoyaltyEcho>('/api/echo', { adapter, beforeRedirect });
    expect(used).toBe(1);
    expect(res.data.headers.authorization).toBe('[present]');
    expect(res.config.adapter).toBe(adapter);
    expect(res.config.beforeRedirect).toBe(beforeRedirect);
    const plain = await api.get('/api/echo');
    expect(plain.config.adapter).toEqual(api.defaults.adapter);
    expect(plain.config.beforeRedirect).toBeUndefined();
  });

  it('an interceptor that runs after ours can still opt the request out with skipAuth', async () => {
    const api2 = axios.create({ baseURL: server.url });
    api2.interceptors.request.use((config) => Object.assign(config, { skipAuth: true }));
    attachAuth(api2, session);
    expect((await api2.get('/api/echo', { validateStatus: () => true })).status).toBe(401);
    expect(server.counters.refreshes).toBe(0);
  });

  it('two attachments on one instance: each origin gets its own credentials and no other', async () => {
    const seen: (string | undefined)[] = [];
    const keyed = await listen((req, res) => {
      seen.push(`${req.headers['x-auth-token'] as string | undefined}|${req.headers.authorization}`);
      sendJson(res, 200, { ok: true });
    });
    const keySession = createAuthSession(openLoyaltyApiKey({ baseUrl: keyed.url, apiKey: 'key-123' }));
    try {
      const both = axios.create();
      attachAuth(both, session);
      attachAuth(both, keySession);
      const { data } = await both.get<OpenLoyaltyEcho>(`${server.url}/api/echo`);
      expect(data.headers.authorization).toBe('[present]');
      expect(data.headers['x-auth-token']).toBeUndefined();
      await both.get(`${keyed.url}/x`);
      expect(seen).toEqual(['key-123|undefined']);
    } finally {
      keySession.close();
      await keyed.close();
    }
  });

  it("the caller's interceptors and transformRequest never see the token, not even on the replay after a 401; the server does", async () => {
    server.revokeAccessTokens();
    const api2 = axios.create({ baseURL: server.url });
    const seen: unknown[] = [];
    // Added before attachAuth: with axios' default order it runs after ours.
    api2.interceptors.request.use((config) => (seen.push(config.headers.get('authorization')), config));
    attachAuth(api2, session);
    api2.interceptors.request.use((config) => (seen.push(config.headers.get('authorization')), config));
    api2.defaults.transformRequest = [(data: unknown, headers) => (seen.push(headers.get('authorization')), data)];
    const { data } = await api2.get<OpenLoyaltyEcho>('/api/echo');
    expect(data.headers.authorization).toBe('[present]');
    expect(server.counters.refreshes).toBe(1);
    expect(seen).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('an interceptor that runs after ours and points the request at another origin: sent without the token', async () => {
    const api2 = axios.create({ baseURL: server.url });
    api2.interceptors.request.use((config) => ({ ...config, baseURL: third.url }));
    attachAuth(api2, session);
    expect((await api2.get('/moved')).status).toBe(200);
    expect(third.seen).toEqual([expect.objectContaining({ url: '/moved', authorization: undefined })]);
  });

  it('an already aborted signal with a cached token: cancelled as axios cancels it, nothing sent', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await api.get('/api/echo', { signal: controller.signal }).catch((e: unknown) => e);
    expect(axios.isCancel(error)).toBe(true);
    expect(server.counters.apiCalls).toBe(0);
  });

  it('sends the token to origins added with options.origins', async () => {
    const shared = axios.create();
    attachAuth(shared, session, { origins: [third.url] });
    await shared.get(`${third.url}/allowed`);
    expect(third.seen[0]?.authorization).toBe(`Bearer ${token}`);
  });

  it("a strategy's own header (X-AUTH-TOKEN) follows redirects only to origins that may carry it", async () => {
    const seen: { at: string; key: string | undefined }[] = [];
    let homeUrl = '';
    const other = await listen((req, res) => {
      seen.push({ at: `other${req.url}`, key: req.headers['x-auth-token'] as string | undefined });
      if (req.url === '/return') res.writeHead(307, { location: `${homeUrl}/after` }).end();
      else if (req.url === '/denied') sendJson(res, 401, { code: 401 });
      else sendJson(res, 200, { ok: true });
    });
    const home = await listen((req, res) => {
      seen.push({ at: `home${req.url}`, key: req.headers['x-auth-token'] as string | undefined });
      if (req.url === '/away') res.writeHead(302, { location: `${other.url}/landed` }).end();
      else if (req.url === '/bounce') res.writeHead(307, { location: `${other.url}/return` }).end();
      else if (req.url === '/to-denied') res.writeHead(302, { location: `${other.url}/denied` }).end();
      else if (req.url === '/around') res.writeHead(302, { location: '/back' }).end();
      else sendJson(res, 200, { ok: true });
    });
    const keyed = createAuthSession(openLoyaltyApiKey({ baseUrl: home.url, apiKey: 'key-123' }));
    try {
      const api2 = axios.create({ baseURL: home.url });
      const hops: string[] = [];
      attachAuth(api2, keyed);
      expect((await api2.get('/away')).status).toBe(200);
      expect(
        (await api2.get('/around', { beforeRedirect: (options) => void hops.push(String(options.href)) })).status,
      ).toBe(200);
      expect(seen).toEqual([
        { at: 'home/away', key: 'key-123' },
        { at: 'other/landed', key: undefined },
        { at: 'home/around', key: 'key-123' },
        { at: 'home/back', key: 'key-123' },
      ]);
      // The caller's own beforeRedirect still runs, and is theirs again afterwards.
      expect(hops).toEqual([`${home.url}/back`]);

      // Once a hop left for another origin, no later hop gets the key back, even on an allowed one;
      // and an answer from there (a 401) is handed back as it is: not replayed, not reported.
      homeUrl = home.url;
      seen.length = 0;
      expect((await api2.post('/bounce', { a: 1 })).status).toBe(200);
      expect((await api2.get('/to-denied', { validateStatus: () => true })).status).toBe(401);
      expect(seen).toEqual([
        { at: 'home/bounce', key: 'key-123' },
        { at: 'other/return', key: undefined },
        { at: 'home/after', key: undefined },
        { at: 'home/to-denied', key: 'key-123' },
        { at: 'other/denied', key: undefined },
      ]);

      // axios' fetch adapter follows redirects out of our sight: the redirect is handed back instead.
      seen.length = 0;
      const viaFetch = axios.create({ baseURL: home.url, adapter: 'fetch' });
      attachAuth(viaFetch, keyed);
      const handedBack = await viaFetch.get('/away', { validateStatus: () => true });
      expect(handedBack.status).toBe(302);
      expect(handedBack.config.maxRedirects).toBeUndefined();
      expect(seen).toEqual([{ at: 'home/away', key: 'key-123' }]);
      // A transport of the caller's (it may wrap anything): the redirect is handed back too.
      seen.length = 0;
      const http = axios.getAdapter('http');
      const wrapped = axios.create({ baseURL: home.url, adapter: (config) => http(config) });
      attachAuth(wrapped, keyed);
      expect((await wrapped.get('/away', { validateStatus: () => true })).status).toBe(302);
      expect(seen).toEqual([{ at: 'home/away', key: 'key-123' }]);
      // A Bearer token on the same transport is left to fetch, which drops Authorization across origins.
      const bearerViaFetch = axios.create({ baseURL: server.url, adapter: 'fetch' });
      attachAuth(bearerViaFetch, session);
      expect((await bearerViaFetch.get('/api/echo')).status).toBe(200);
    } finally {
      keyed.close();
      await Promise.all([home.close(), other.close()]);
    }
  });

  it('an origin removed from options.origins after attaching no longer gets the token, even for a URL already seen', async () => {
    const origins = [third.url];
    const shared = axios.create({ baseURL: third.url });
    attachAuth(shared, session, { origins });
    await shared.get('/seen');
    origins.length = 0;
    await shared.get('/seen');
    expect(third.seen.map((r) => r.authorization)).toEqual([`Bearer ${token}`, undefined]);
  });

  it('leaves skipAuth requests, skip() matches and the auth endpoints alone', async () => {
    const skipped = await api.get('/api/echo', { skipAuth: true, validateStatus: () => true });
    expect(skipped.status).toBe(401);
    const api2 = axios.create({ baseURL: server.url });
    attachAuth(api2, session, { skip: (c) => c.url === '/api/echo' });
    expect((await api2.get('/api/echo', { validateStatus: () => true })).status).toBe(401);
    // A login through the instance: no token attached, and its 401 is not a reason to refresh.
    const login = await api.post(
      '/api/admin/login_check',
      { username: 'admin', password: 'wrong' },
      { validateStatus: () => true },
    );
    expect(login.status).toBe(401);
    expect(server.counters.authCalls).toBe(1);
    expect(server.counters.apiRejected).toBe(2);
  });

  it('replays once with the new token after a revoked token; same method, URL, params and body', async () => {
    server.revokeAccessTokens();
    const { data } = await api.put<OpenLoyaltyEcho>('/api/echo', { hello: 'world' }, { params: { q: '1' } });
    expect(data.method).toBe('PUT');
    expect(data.query).toEqual({ q: '1' });
    expect(JSON.parse(data.body)).toEqual({ hello: 'world' });
    expect(server.counters.apiRejected).toBe(1);
    expect(server.counters.refreshes).toBe(1);
    expect((await session.getToken()).accessToken).not.toBe(token);
  });

  it('also replays when validateStatus lets the 401 through', async () => {
    server.revokeAccessTokens();
    const res = await api.get<OpenLoyaltyEcho>('/api/echo', { validateStatus: () => true });
    expect(res.status).toBe(200);
    expect(server.counters.refreshes).toBe(1);
  });

  it('a finished request config sent again to another origin carries no token', async () => {
    const res = await api.get('/api/echo');
    await api.request({ ...res.config, baseURL: third.url, url: '/reused' });
    expect(third.seen).toEqual([expect.objectContaining({ url: '/reused', authorization: undefined })]);
  });

  it('a finished request config sent elsewhere with skipAuth carries no token', async () => {
    const res = await api.get('/api/echo');
    await api.request({ ...res.config, baseURL: third.url, url: '/reused-skipped', skipAuth: true });
    expect(third.seen).toEqual([expect.objectContaining({ url: '/reused-skipped', authorization: undefined })]);
  });

  it('a finished request config sent to another origin after the token was renewed carries neither token', async () => {
    const res = await api.get('/api/echo');
    await session.refresh();
    expect((await api.get('/api/echo')).status).toBe(200);
    await api.request({ ...res.config, baseURL: third.url, url: '/reused-after-renewal' });
    expect(third.seen).toEqual([expect.objectContaining({ url: '/reused-after-renewal', authorization: undefined })]);
  });

  it('works when an earlier interceptor replaced the headers with a plain object', async () => {
    const api2 = axios.create({ baseURL: server.url });
    attachAuth(api2, session);
    // Registered later, so it runs before ours (axios' default request-interceptor order).
    api2.interceptors.request.use((c) => Object.assign(c, { headers: { 'x-plain': '1' } }));
    const { data } = await api2.get<OpenLoyaltyEcho>('/api/echo');
    expect(data.headers.authorization).toBe('[present]');
    expect(data.headers['x-plain']).toBe('1');
    await api2.get(`${third.url}/plain`);
    expect(third.seen[0]?.authorization).toBeUndefined();
  });

  describe('bodies survive the replay', () => {
    const cases: [string, () => unknown, (echo: OpenLoyaltyEcho) => void][] = [
      ['JSON', () => ({ a: [1, 2], b: 'é' }), (e) => expect(JSON.parse(e.body)).toEqual({ a: [1, 2], b: 'é' })],
      ['URL-encoded', () => new URLSearchParams({ a: '1', b: 'x y' }), (e) => expect(e.body).toBe('a=1&b=x+y')],
      [
        'FormData',
        () => {
          const f = new FormData();
          f.append('field', 'value');
          f.append('file', new Blob(['file-content'], { type: 'text/plain' }), 'f.txt');
          return f;
        },
        (e) => {
          expect(e.contentType).toMatch(/^multipart\/form-data; boundary=/);
          expect(e.body).toContain('name="field"\r\n\r\nvalue');
          expect(e.body).toContain('filename="f.txt"');
          expect(e.body).toContain('file-content');
        },
      ],
      ['Blob', () => new Blob(['blob-body'], { type: 'text/plain' }), (e) => expect(e.body).toBe('blob-body')],
      [
        'ArrayBuffer',
        () => new Uint8Array([0xff, 0, 1, 2]).buffer,
        (e) => expect(Buffer.from(e.body, 'base64')).toEqual(Buffer.from([0xff, 0, 1, 2])),
      ],
      [
        'Uint8Array',
        () => new Uint8Array([0xfe, 7]),
        (e) => expect(Buffer.from(e.body, 'base64')).toEqual(Buffer.from([0xfe, 7])),
      ],
    ];
    for (const [name, make, check] of cases) {
      it(name, async () => {
        server.revokeAccessTokens();
        const { data } = await api.post<OpenLoyaltyEcho>('/api/echo', make());
        check(data);
        expect(server.counters.apiRejected).toBe(1);
        expect(server.counters.apiCalls).toBe(2);
      });
    }
  });

  it('passes a 403 through without a refresh', async () => {
    server.faults.add({
      endpoint: 'api',
      fault: { kind: 'status', status: 403, body: { code: 403, message: 'Forbidden.' } },
    });
    const error = await api.get('/api/echo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AxiosError);
    expect((error as AxiosError).response?.status).toBe(403);
    expect(server.counters.authCalls).toBe(0);
    expect(server.counters.apiCalls).toBe(1);
  });

  it('fails with the server response when the replay is rejected again (no loop)', async () => {
    server.faults.add({
      endpoint: 'api',
      fault: { kind: 'status', status: 401, headers: { 'www-authenticate': 'Bearer' } },
      times: 2,
    });
    const error = (await api.get('/api/echo').catch((e: unknown) => e)) as AxiosError;
    expect(error).toBeInstanceOf(AxiosError);
    expect(error.response?.status).toBe(401);
    expect(server.counters.apiCalls).toBe(2);
    expect(server.counters.refreshes).toBe(1);
  });

  it('errors reaching the caller carry no token', async () => {
    // 401 (the first token is reported), then the replay with the new token fails with 500.
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 401 } });
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 500 } });
    const error = (await api.get('/api/echo').catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).toBe(500);
    expect(server.counters.refreshes).toBe(1);
    const current = (await session.getToken()).accessToken;
    for (const t of [token, current]) {
      expect(inspect(error, { depth: 8 })).not.toContain(t);
      expect(JSON.stringify(error.toJSON())).not.toContain(t);
      expect(String(error.config?.headers?.Authorization ?? error.config?.headers?.authorization)).toBe('[redacted]');
    }
    // A network failure too.
    const dead = axios.create({ baseURL: server.url });
    attachAuth(dead, session);
    server.faults.add({ endpoint: 'api', fault: { kind: 'reset' } });
    const reset = (await dead.get('/api/echo').catch((e: unknown) => e)) as AxiosError;
    expect(reset.code).toBe('ECONNRESET');
    expect(inspect(reset, { depth: 8 })).not.toContain(current);
  });

  it('a failed login surfaces as the core typed error, with the token-free request attached', async () => {
    const bad = await adminSession(server, { password: 'wrong' });
    const api2 = axios.create({ baseURL: server.url });
    attachAuth(api2, bad);
    server.revokeAccessTokens();
    server.expireRefreshTokens();
    const error = await api2.post('/api/echo', { x: 1 }).catch((e: unknown) => e);
    expect(isAuthError(error)).toBe(true);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('CREDENTIALS_REJECTED');
    const config = (
      error as AuthError & { config?: { url?: string; method?: string; headers?: Record<string, unknown> } }
    ).config;
    expect(config?.url).toBe('/api/echo');
    expect(config?.method).toBe('post');
    expect(inspect(error, { depth: 8 })).not.toContain('wrong');
    expect(inspect(config, { depth: 8 })).not.toMatch(/Bearer ey/);
    expect(server.counters.logins).toBe(0);
    bad.close();
  });

  it('aborting while the refresh is in flight rejects that request at once; the others go on', async () => {
    server.revokeAccessTokens();
    server.faults.add({ endpoint: 'refresh', fault: { kind: 'delay', ms: 1_000 } });
    const controller = new AbortController();
    const aborted = api.get('/api/echo', { signal: controller.signal }).catch((e: unknown) => e);
    const other = api.get<OpenLoyaltyEcho>('/api/echo');
    await waitFor(() => server.counters.authCalls === 1, 'the refresh to start');
    controller.abort();
    const error = await aborted;
    expect(server.counters.refreshes).toBe(0); // rejected before the refresh finished
    expect(isAuthError(error) && error.code).toBe('ABORTED');
    expect(axios.isCancel(error)).toBe(true);
    expect((await other).status).toBe(200);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.apiCalls).toBe(3); // two 401s and the one replay
  });

  it('an aborted request waiting for a token (no token yet) rejects at once', async () => {
    const api2 = axios.create({ baseURL: server.url });
    server.revokeAccessTokens();
    server.expireRefreshTokens();
    server.faults.add({ endpoint: 'refresh', fault: { kind: 'delay', ms: 1_000 } });
    attachAuth(api2, session);
    const controller = new AbortController();
    const pending = api2.get('/api/echo', { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => server.counters.apiRejected === 1 && server.counters.authCalls === 1, 'the refresh to start');
    controller.abort();
    expect(((await pending) as AuthError).code).toBe('ABORTED');
    expect(server.counters.logins).toBe(0);
  });

  it('schedules through Bottleneck: concurrency is capped and an aborted request leaves the queue at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = await listen(async (req, res) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight -= 1;
      sendJson(res, 200, { url: req.url });
    });
    try {
      const limited = axios.create({ baseURL: slow.url });
      attachAuth(limited, session, { origins: [slow.url], limiter: { maxConcurrent: 2 } });
      const all = await Promise.all(Array.from({ length: 12 }, (_, i) => limited.get(`/r${i}`)));
      expect(all.every((r) => r.status === 200)).toBe(true);
      expect(maxInFlight).toBe(2);

      const limiter = new Bottleneck({ maxConcurrent: 1 });
      const one = axios.create({ baseURL: slow.url });
      attachAuth(one, session, { origins: [slow.url], limiter });
      const blocker = one.get('/blocker');
      const controller = new AbortController();
      const queued = one.get('/queued', { signal: controller.signal }).catch((e: unknown) => e);
      controller.abort();
      const error = await queued;
      expect((error as AuthError).code).toBe('ABORTED');
      expect((await blocker).status).toBe(200);
      expect((await one.get('/after')).status).toBe(200);
    } finally {
      await slow.close();
    }
  });

  it('a throwing interceptor that runs after ours keeps no limiter slot', async () => {
    const one = axios.create({ baseURL: server.url });
    let fail = 2;
    // Added before attachAuth: with axios' default order it runs after ours.
    one.interceptors.request.use((config) => {
      if (fail > 0) {
        fail -= 1;
        throw new Error('interceptor failed');
      }
      return config;
    });
    attachAuth(one, session, { limiter: { maxConcurrent: 1 } });
    await expect(one.get('/api/echo')).rejects.toThrow('interceptor failed');
    await expect(one.get('/api/echo')).rejects.toThrow('interceptor failed');
    expect((await one.get('/api/echo')).status).toBe(200);
  });

  it('a request whose transport fails gives its limiter slot back', async () => {
    const dead = await listen((req) => {
      req.socket.destroy();
    });
    try {
      const one = axios.create({ baseURL: dead.url });
      attachAuth(one, session, { origins: [dead.url], limiter: { maxConcurrent: 1 } });
      await expect(one.get('/first')).rejects.toMatchObject({ code: 'ECONNRESET' });
      await expect(one.get('/second')).rejects.toMatchObject({ code: 'ECONNRESET' });
    } finally {
      await dead.close();
    }
  });

  it('retries an API 429 after Retry-After, bounded, and can be turned off', async () => {
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } } });
    expect((await api.get('/api/echo')).status).toBe(200);
    expect(server.counters.apiCalls).toBe(2);

    server.resetCounters();
    server.faults.add({
      endpoint: 'api',
      fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } },
      times: 5,
    });
    const bounded = (await api.get('/api/echo').catch((e: unknown) => e)) as AxiosError;
    expect(bounded.response?.status).toBe(429);
    expect(server.counters.apiCalls).toBe(3); // the first try and two retries
    server.faults.clear();

    server.resetCounters();
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } } });
    expect(((await api.get('/api/echo').catch((e: unknown) => e)) as AxiosError).response?.status).toBe(429);
    expect(server.counters.apiCalls).toBe(1);

    const off = axios.create({ baseURL: server.url });
    attachAuth(off, session, { retryRateLimited: false });
    server.resetCounters();
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } } });
    expect(((await off.get('/api/echo').catch((e: unknown) => e)) as AxiosError).response?.status).toBe(429);
    expect(server.counters.apiCalls).toBe(1);
  });

  it("reads a 429's Retry-After from a plain headers record (a caller's earlier interceptor made it one)", async () => {
    const plain = axios.create({ baseURL: server.url });
    // Registered before attachAuth, so it runs first: the answer reaches the adapter with plain headers.
    plain.interceptors.response.use(undefined, (error: AxiosError) => {
      if (error.response) error.response.headers = { ...(error.response.headers as AxiosHeaders).toJSON() };
      return Promise.reject(error);
    });
    attachAuth(plain, session);
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } } });
    expect((await plain.get('/api/echo')).status).toBe(200);
    expect(server.counters.apiCalls).toBe(2);
  });

  it('aborting while it waits out a Retry-After rejects at once, and nothing more is sent', async () => {
    server.faults.add({ endpoint: 'api', fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } } });
    let got429 = false;
    const watched = axios.create({ baseURL: server.url });
    // Registered first, so it sees the answer before the adapter does.
    watched.interceptors.response.use(undefined, (e: AxiosError) => {
      got429 ||= e.response?.status === 429;
      throw e;
    });
    // An hour's Retry-After, allowed: only the abort can end this request within the test's time.
    attachAuth(watched, session, { retryRateLimited: { maxRetryAfterMs: 3_600_000 } });
    const controller = new AbortController();
    const pending = watched.get('/api/echo', { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => got429, 'the 429 to arrive');
    controller.abort();
    const error = await pending;
    expect((error as AuthError).code).toBe('ABORTED');
    expect(axios.isCancel(error)).toBe(true);
    expect(inspect(error, { depth: 8 })).not.toContain(token);
    expect(server.counters.apiCalls).toBe(1);
  });

  it('a stream body is sent once: the rejection is handed back, not replayed', async () => {
    const { Readable } = await import('node:stream');
    server.revokeAccessTokens();
    const error = (await api
      .post('/api/echo', Readable.from([Buffer.from('once')]), { headers: { 'content-type': 'text/plain' } })
      .catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).toBe(401);
    expect(server.counters.apiCalls).toBe(1);
    // The rejection was still reported: the next request gets a renewed token, with one refresh in all.
    expect((await api.get('/api/echo')).status).toBe(200);
    expect(server.counters.refreshes).toBe(1);
  });

  it('detach() removes the interceptors', async () => {
    const api2 = axios.create({ baseURL: server.url });
    const detach = attachAuth(api2, session);
    expect((await api2.get('/api/echo')).status).toBe(200);
    detach();
    expect((await api2.get('/api/echo', { validateStatus: () => true })).status).toBe(401);
  });
});
