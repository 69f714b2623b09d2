import { inspect } from 'node:util';
import { createAuthSession, type AuthSession, type AuthSessionOptions, type FetchLike, type Logger } from '@auth/core';
import { createDatarheiServer, type DatarheiServer, type DatarheiServerOptions } from '@auth/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { datarheiAuth0, type DatarheiAuth0Options } from '../src/index.js';
import { API, CLIENT_ID, CLIENT_SECRET, INTRUDER_ID, INTRUDER_SECRET, startIdp, type Idp } from './idp.js';
import { failure } from '../../core/test/leaks.js';

let idp: Idp;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());

const cores: DatarheiServer[] = [];
const sessions: AuthSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await Promise.all(cores.splice(0).map((c) => c.close()));
  idp.tokenRequests = 0;
  idp.discoveryRequests = 0;
});

async function startCore(options: DatarheiServerOptions = {}) {
  const core = await createDatarheiServer({
    failedLoginDelayMs: 5,
    auth0Tenants: [{ issuer: idp.issuer, users: [CLIENT_ID, 'user-42'], audience: API }],
    ...options,
  });
  cores.push(core);
  return core;
}

function fakeClock() {
  let t = Date.now();
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Everything the session and strategy said, to check that no secret leaks. */
function recorder() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
    info: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
    warn: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
    error: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
  };
  const requests: { url: string; body: string }[] = [];
  const fetchSpy: FetchLike = async (input, init) => {
    requests.push({
      url: String(input instanceof Request ? input.url : input),
      body:
        typeof init?.body === 'string' ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : '',
    });
    return fetch(input, init);
  };
  return { lines, logger, requests, fetchSpy };
}

function clientCredentials(
  core: DatarheiServer,
  extra: Partial<DatarheiAuth0Options> = {},
  creds = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
): DatarheiAuth0Options {
  return {
    baseUrl: core.url,
    clientCredentials: { issuer: idp.issuer, ...creds, resource: API, allowInsecureRequests: true },
    ...extra,
  } as DatarheiAuth0Options;
}

function session(options: DatarheiAuth0Options, sessionOptions: AuthSessionOptions = {}) {
  const rec = recorder();
  const s = createAuthSession(datarheiAuth0(options), {
    logger: rec.logger,
    fetch: rec.fetchSpy,
    retry: { baseDelayMs: 5, retries: 1 },
    on: { failure: (e) => rec.lines.push(JSON.stringify({ ...e, error: e.error.toJSON() })) },
    ...sessionOptions,
  });
  sessions.push(s);
  return { session: s, ...rec };
}

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

describe('datarheiAuth0 against oidc-provider and the reference Core server', () => {
  it('exchanges a client-credentials token for Core tokens', async () => {
    const core = await startCore();
    const { session: s, requests } = session(clientCredentials(core));
    const tokens = await s.getToken();
    expect(claims(tokens.accessToken)).toMatchObject({ iss: 'datarhei-core', sub: CLIENT_ID, usefor: 'access' });
    expect(tokens.refreshExpiresAt).toBeGreaterThan(Date.now() + 86_000_000);
    expect(core.counters).toMatchObject({ auth0Logins: 1, failedLogins: 0 });
    expect(idp.tokenRequests).toBe(1);
    const res = await fetch(`${core.url}/api/v3/process`, { headers: s.authorize(tokens) });
    expect(res.status).toBe(200);
    // Discovery and the grant went through the session's fetch; the grant asked for the API resource.
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual([
      '/.well-known/openid-configuration',
      '/token',
      '/api/login',
    ]);
    expect(new URLSearchParams(requests[1]!.body).get('grant_type')).toBe('client_credentials');
    expect(new URLSearchParams(requests[1]!.body).get('resource')).toBe(API);
  });

  it('sends Auth0’s audience parameter when given one', async () => {
    const core = await startCore();
    const { session: s, requests } = session({
      baseUrl: core.url,
      clientCredentials: {
        issuer: idp.issuer,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        audience: API,
        allowInsecureRequests: true,
      },
    });
    await s.getToken();
    const body = new URLSearchParams(requests.find((r) => r.url.endsWith('/token'))!.body);
    expect(body.get('audience')).toBe(API);
    expect(body.has('resource')).toBe(false);
  });

  it('reuses the Auth0 token across Core logins', async () => {
    const core = await startCore();
    const { session: s } = session(clientCredentials(core));
    const a = await s.login();
    const b = await s.login();
    const c = await s.login();
    expect(new Set([a.accessToken, b.accessToken, c.accessToken]).size).toBe(3);
    expect(core.counters.auth0Logins).toBe(3);
    expect(idp.tokenRequests).toBe(1);
    expect(idp.discoveryRequests).toBe(1);
  });

  it('shares one Auth0 token request between sessions of the same strategy', async () => {
    const core = await startCore();
    const strategy = datarheiAuth0(clientCredentials(core));
    const a = createAuthSession(strategy);
    const b = createAuthSession(strategy);
    sessions.push(a, b);
    const [ta, tb] = await Promise.all([a.getToken(), b.getToken()]);
    expect(ta.accessToken).not.toBe(tb.accessToken);
    expect(core.counters.auth0Logins).toBe(2);
    expect(idp.tokenRequests).toBe(1);
    expect(idp.discoveryRequests).toBe(1);
  });

  it('a session closed during a shared Auth0 token request does not abort the other sessions’ logins', async () => {
    const core = await startCore();
    const strategy = datarheiAuth0(clientCredentials(core));
    // A's transport holds provider requests back a little, so that B joins A's request in flight.
    let sent!: () => void;
    const aSent = new Promise<void>((resolve) => (sent = resolve));
    const slow: FetchLike = async (input, init) => {
      sent();
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 300);
        init?.signal?.addEventListener(
          'abort',
          () => (clearTimeout(timer), reject(new DOMException('aborted', 'AbortError'))),
          { once: true },
        );
      });
      return fetch(input, init);
    };
    const a = createAuthSession(strategy, { fetch: slow });
    const b = createAuthSession(strategy);
    sessions.push(a, b);
    const first = a.getToken();
    await aSent;
    const second = b.getToken(); // joins A's provider request
    await new Promise((r) => setTimeout(r, 20));
    a.close();
    await expect(first).rejects.toMatchObject({ code: 'ABORTED' });
    const tokens = await second;
    expect(claims(tokens.accessToken)).toMatchObject({ sub: CLIENT_ID, usefor: 'access' });
    expect(core.counters.auth0Logins).toBe(1);
  });

  it('logs in again without a new Auth0 token when Core’s refresh token expires (checked locally)', async () => {
    const clock = fakeClock();
    const core = await startCore({ now: clock.now, refreshTokenTtlSeconds: 120, accessTokenTtlSeconds: 60 });
    const { session: s } = session(clientCredentials(core), { now: clock.now });
    const first = await s.getToken();
    clock.advance(61_000);
    const refreshed = await s.getToken();
    expect(refreshed.refreshToken).toBe(first.refreshToken);
    expect(core.counters).toMatchObject({ refreshes: 1, auth0Logins: 1 });
    clock.advance(60_000);
    const relogged = await s.getToken();
    expect(relogged.refreshToken).not.toBe(first.refreshToken);
    expect(core.counters).toMatchObject({ refreshes: 1, failedRefreshes: 0, auth0Logins: 2 });
    expect(idp.tokenRequests).toBe(1);
  });

  it('logs in again without a new Auth0 token when Core rejects its refresh token', async () => {
    const core = await startCore();
    const { session: s } = session(clientCredentials(core));
    await s.getToken();
    core.expireRefreshTokens();
    const next = await s.refresh();
    expect(core.counters).toMatchObject({ failedRefreshes: 1, auth0Logins: 2 });
    expect(idp.tokenRequests).toBe(1);
    expect((await fetch(`${core.url}/api/v3/process`, { headers: s.authorize(next) })).status).toBe(200);
  });

  it('obtains a new Auth0 token only once the cached one is near its expiry', async () => {
    const clock = fakeClock();
    const core = await startCore();
    const { session: s } = session(clientCredentials(core, { auth0ExpiryMarginMs: 60_000 }), { now: clock.now });
    await s.login();
    clock.advance(3_600_000 - 61_000); // the 1-hour Auth0 token still has more than the margin left
    await s.login();
    expect(idp.tokenRequests).toBe(1);
    clock.advance(2_000);
    await s.login();
    expect(idp.tokenRequests).toBe(2);
    expect(core.counters.auth0Logins).toBe(3);
  });

  it('rejects an Auth0 user that is not on Core’s list with a clear credentials error', async () => {
    const core = await startCore();
    const { session: s, lines } = session(
      clientCredentials(core, {}, { clientId: INTRUDER_ID, clientSecret: INTRUDER_SECRET }),
    );
    const error = await failure(s.getToken());
    expect(error.code).toBe('CREDENTIALS_REJECTED');
    expect(error.status).toBe(401);
    expect(error.message).toContain(`subject "${INTRUDER_ID}"`);
    expect(error.message).toContain(idp.issuer);
    expect(error.message).toContain('user list');
    // One Auth0 token, one Core login: no retries of a refusal that another token would not change.
    expect(idp.tokenRequests).toBe(1);
    expect(core.counters).toMatchObject({ loginAttempts: 1, failedLogins: 1, logins: 0 });
    const everything = [error.message, JSON.stringify(error), inspect(error), ...lines].join('\n');
    expect(everything).not.toContain(INTRUDER_SECRET);
    expect(everything).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/); // no JWT anywhere
  });

  it('retries once with a fresh Auth0 token when Core refuses the cached one', async () => {
    const core = await startCore();
    const { session: s } = session(clientCredentials(core));
    await s.login();
    core.faults.add({
      endpoint: 'login',
      fault: {
        kind: 'status',
        status: 401,
        body: { code: 401, message: 'Unauthorized', details: ['Invalid authorization credentials: invalid token'] },
      },
    });
    await s.login();
    expect(idp.tokenRequests).toBe(2);
    expect(core.counters).toMatchObject({ faults: 1, auth0Logins: 2 });
  });

  it('reports wrong client credentials at the provider without the secret', async () => {
    const core = await startCore();
    const wrong = 'cs-wrong-secret-1234567890';
    const { session: s, lines } = session(clientCredentials(core, {}, { clientId: CLIENT_ID, clientSecret: wrong }));
    const error = await failure(s.getToken());
    expect(error.code).toBe('CREDENTIALS_REJECTED');
    expect(error.message).toContain('invalid_client');
    expect(idp.tokenRequests).toBe(1);
    expect(core.counters.loginAttempts).toBe(0);
    expect([error.message, JSON.stringify(error), inspect(error), ...lines].join('\n')).not.toContain(wrong);
  });

  it('turns a provider outage into a typed network error and recovers once it is back', async () => {
    const clock = fakeClock();
    const core = await startCore();
    const { session: s, lines } = session(clientCredentials(core), { now: clock.now });
    await s.login();
    await idp.stop();
    try {
      // The cached Auth0 token keeps Core logins working while the provider is down.
      await s.login();
      expect(core.counters.auth0Logins).toBe(2);
      clock.advance(3_600_000);
      const error = await failure(s.login());
      expect(error.code).toBe('NETWORK');
      expect(error.transient).toBe(true);
      expect(error.message).toContain('ECONNREFUSED');
      expect(core.counters.auth0Logins).toBe(2);
    } finally {
      await idp.start();
    }
    await s.login();
    expect(core.counters.auth0Logins).toBe(3);
    expect(idp.tokenRequests).toBe(2);
    expect(lines.join('\n')).not.toContain(CLIENT_SECRET);
  });

  it('reports a provider that is down at discovery as a network error, and discovers once it is back', async () => {
    const core = await startCore();
    const { session: s } = session(clientCredentials(core));
    await idp.stop();
    try {
      const error = await failure(s.getToken());
      expect(error.code).toBe('NETWORK');
      expect(error.operation).toBe('login');
    } finally {
      await idp.start();
    }
    await s.getToken();
    expect(idp.discoveryRequests).toBe(1);
    expect(core.counters.auth0Logins).toBe(1);
  });

  it('maps a provider 5xx to SERVER_ERROR and a wrong issuer to CONFIGURATION', async () => {
    const core = await startCore();
    const { session: wrongIssuer } = session({
      baseUrl: core.url,
      clientCredentials: {
        issuer: `${idp.issuer}nope/`,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        allowInsecureRequests: true,
      },
    });
    const config = await failure(wrongIssuer.getToken());
    expect(config.code).toBe('CONFIGURATION');
    const { session: https } = session({
      baseUrl: core.url,
      clientCredentials: { issuer: idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    });
    expect((await failure(https.getToken())).message).toContain('allowInsecureRequests');
    const failing: FetchLike = async (input, init) =>
      String(input).endsWith('/token')
        ? new Response('<html>oops</html>', { status: 503, headers: { 'content-type': 'text/html' } })
        : fetch(input, init);
    const { session: down } = session(clientCredentials(core), { fetch: failing, retry: { retries: 0 } });
    const server = await failure(down.getToken());
    expect(server.code).toBe('SERVER_ERROR');
    expect(server.status).toBe(503);
  });

  it('uses a refresh-token grant for a user who signed in elsewhere, keeping the rotated refresh token', async () => {
    const core = await startCore();
    const initial = await idp.refreshTokenFor('user-42');
    const rotated: string[] = [];
    const clock = fakeClock();
    const { session: s, lines } = session(
      {
        baseUrl: core.url,
        refreshTokenGrant: {
          issuer: idp.issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          refreshToken: initial,
          resource: API,
          allowInsecureRequests: true,
          onRefreshToken: (t) => void rotated.push(t),
        },
      },
      { now: clock.now },
    );
    const tokens = await s.getToken();
    expect(claims(tokens.accessToken).sub).toBe('user-42');
    expect(rotated).toHaveLength(1);
    expect(rotated[0]).not.toBe(initial);
    // The next Auth0 token comes from the rotated refresh token (the old one is spent).
    clock.advance(3_600_000);
    await s.login();
    expect(rotated).toHaveLength(2);
    expect(core.counters.auth0Logins).toBe(2);
    expect(lines.join('\n')).not.toContain(initial);
  });

  it('uses a caller-supplied getToken, cached, and forces a fresh one after a refusal', async () => {
    const core = await startCore();
    const calls: boolean[] = [];
    // What a browser app does with Auth0's SPA SDK; here the token comes straight from the provider.
    const getToken = async ({ forceRefresh }: { forceRefresh: boolean }) => {
      calls.push(forceRefresh);
      const res = await fetch(`${idp.issuer}token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          resource: API,
        }),
      });
      const body = (await res.json()) as { access_token: string; expires_in: number };
      return { accessToken: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
    };
    const { session: s } = session({ baseUrl: core.url, getToken });
    await s.login();
    await s.login();
    expect(calls).toEqual([false]);
    core.faults.add({
      endpoint: 'login',
      fault: { kind: 'status', status: 401, body: { code: 401, message: 'Unauthorized', details: [] } },
    });
    await s.login();
    expect(calls).toEqual([false, true]);
    expect(core.counters.auth0Logins).toBe(3);
  });

  it('refuses ambiguous or incomplete options', () => {
    expect(() => datarheiAuth0({ baseUrl: 'http://core.test' } as DatarheiAuth0Options)).toThrowError(/exactly one/);
    expect(() =>
      // @ts-expect-error only one token source at a time
      datarheiAuth0({
        baseUrl: 'http://core.test',
        getToken: async () => 'x',
        clientCredentials: { issuer: 'https://t.test/', clientId: 'a', clientSecret: 'b' },
      }),
    ).toThrowError(/exactly one/);
    expect(() =>
      datarheiAuth0({
        baseUrl: 'http://core.test',
        clientCredentials: { issuer: 'https://t.test/', clientId: 'a', clientSecret: '' },
      }),
    ).toThrowError(/clientSecret/);
    expect(() =>
      datarheiAuth0({
        baseUrl: 'http://core.test',
        clientCredentials: { issuer: 'not a url', clientId: 'a', clientSecret: 'b' },
      }),
    ).toThrowError(/issuer/);
    const strategy = datarheiAuth0({ baseUrl: 'http://core.test/prefix/', getToken: async () => 'x' });
    expect(strategy.authEndpoints).toEqual([
      'http://core.test/prefix/api/login',
      'http://core.test/prefix/api/login/refresh',
    ]);
    expect(strategy.isTokenRejected!({ status: 403 })).toBe(false);
    expect(strategy.isTokenRejected!({ status: 401 })).toBe(true);
  });
});
