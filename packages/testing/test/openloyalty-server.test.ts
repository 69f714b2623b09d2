import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createOpenLoyaltyServer,
  type OpenLoyaltyEcho,
  type OpenLoyaltyServer,
  type OpenLoyaltyServerOptions,
} from '@auth/testing';

const started: OpenLoyaltyServer[] = [];
async function start(opts?: OpenLoyaltyServerOptions) {
  const s = await createOpenLoyaltyServer(opts);
  started.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

function post(s: OpenLoyaltyServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
function get(s: OpenLoyaltyServer, path: string, token?: string) {
  return fetch(`${s.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}
async function adminLogin(s: OpenLoyaltyServer) {
  const res = await post(s, '/api/admin/login_check', { username: 'admin', password: 'password' });
  expect(res.status).toBe(200);
  return (await res.json()) as { token: string; refresh_token: string };
}

describe('OpenLoyalty reference server: tokens', () => {
  it('issues RS256 JWTs with exp, iat, username, roles and id, with the configured lifetime', async () => {
    const s = await start({ accessTokenTtlSec: 7 });
    const { token, refresh_token } = await adminLogin(s);
    expect(decodeProtectedHeader(token).alg).toBe('RS256');
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ username: 'admin', roles: ['ROLE_ADMIN'] });
    expect(typeof claims.id).toBe('string');
    expect(claims.exp! - claims.iat!).toBe(7);
    expect(refresh_token).toMatch(/^[0-9a-f]{64,}$/);
    expect(s.counters.logins).toBe(1);
  });

  it('defaults to 24 h tokens', async () => {
    const s = await start();
    const claims = decodeJwt((await adminLogin(s)).token);
    expect(claims.exp! - claims.iat!).toBe(86_400);
  });

  it('rotates refresh tokens: the new one works once, the old one is dead', async () => {
    const s = await start();
    const first = await adminLogin(s);
    const r1 = await post(s, '/api/token/refresh', { refresh_token: first.refresh_token });
    expect(r1.status).toBe(200);
    const second = (await r1.json()) as { token: string; refresh_token: string };
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await post(s, '/api/token/refresh', { refresh_token: first.refresh_token })).status).toBe(401);
    expect((await post(s, '/api/token/refresh', { refresh_token: second.refresh_token })).status).toBe(200);
    expect(s.counters).toMatchObject({ refreshes: 2, refreshesRejected: 1, rejectedAuthCalls: 1 });
  });

  it('revoke kills all refresh tokens of the user and answers 204; access tokens live on', async () => {
    const s = await start();
    const a = await adminLogin(s);
    const b = await adminLogin(s);
    expect(s.liveRefreshTokens('admin')).toBe(2);
    const res = await get(s, '/api/token/revoke', a.token);
    expect(res.status).toBe(204);
    expect(s.liveRefreshTokens('admin')).toBe(0);
    expect((await post(s, '/api/token/refresh', { refresh_token: b.refresh_token })).status).toBe(401);
    expect((await get(s, '/api/echo', a.token)).status).toBe(200);
    expect((await get(s, '/api/token/revoke')).status).toBe(401);
    expect(s.counters).toMatchObject({ revokes: 1, revokesRejected: 1, apiRejected: 0 });
  });

  it('revokeAccessTokens() invalidates unexpired access tokens; expireRefreshTokens() kills refresh tokens', async () => {
    const s = await start();
    const a = await adminLogin(s);
    expect(s.revokeAccessTokens('admin')).toBe(1);
    const res = await get(s, '/api/echo', a.token);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 401, message: 'Invalid JWT Token' });
    expect(s.expireRefreshTokens()).toBe(1);
    expect((await post(s, '/api/token/refresh', { refresh_token: a.refresh_token })).status).toBe(401);
    // Tokens issued afterwards are not affected.
    expect((await get(s, '/api/echo', (await adminLogin(s)).token)).status).toBe(200);
    expect(s.counters.apiRejected).toBe(1);
  });

  it('answers expired, invalid and missing tokens with the documented 401 bodies', async () => {
    const s = await start();
    const expired = await s.issueTokens({ username: 'admin', accessTokenTtlSec: -5 });
    expect(await (await get(s, '/api/echo', expired.token)).json()).toEqual({
      code: 401,
      message: 'Expired JWT Token',
    });
    expect(await (await get(s, '/api/echo', 'not.a.jwt')).json()).toEqual({ code: 401, message: 'Invalid JWT Token' });
    const missing = await get(s, '/api/echo');
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ code: 401, message: 'Authentication Required' });
    expect(s.counters).toMatchObject({ apiCalls: 3, apiRejected: 3 });
  });
});

describe('OpenLoyalty reference server: errors', () => {
  it('answers bad credentials with the spec body by default and the bundle body on request', async () => {
    const spec = await start();
    const r1 = await post(spec, '/api/admin/login_check', { username: 'admin', password: 'nope' });
    expect(r1.status).toBe(401);
    expect(await r1.json()).toEqual({ message: 'Bad credentials.' });
    const bundle = await start({ errorBodies: 'bundle' });
    const r2 = await post(bundle, '/api/admin/login_check', { username: 'admin', password: 'nope' });
    expect(r2.status).toBe(401);
    expect(r2.headers.get('www-authenticate')).toBe('Bearer');
    expect(await r2.json()).toEqual({ code: 401, message: 'Invalid credentials.' });
    const r3 = await post(bundle, '/api/token/refresh', { refresh_token: 'unknown' });
    expect(await r3.json()).toEqual({ code: 401, message: 'JWT Refresh Token Not Found' });
    expect(spec.counters.loginsRejected).toBe(1);
  });

  it('answers 400 to malformed JSON, missing fields and a non-JSON content type', async () => {
    const s = await start();
    expect((await post(s, '/api/admin/login_check', '{"username":')).status).toBe(400);
    expect((await post(s, '/api/admin/login_check', { username: 'admin' })).status).toBe(400);
    expect((await post(s, '/api/token/refresh', {})).status).toBe(400);
    const form = await fetch(`${s.url}/api/admin/login_check`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'admin', password: 'password' }),
    });
    expect(form.status).toBe(400);
    expect(s.counters).toMatchObject({ badRequests: 4, logins: 0 });
  });

  it('serves members per store, 404 for an unknown store, and store codes are matched verbatim after decoding', async () => {
    const s = await start({ stores: { 'EU/1 ü': [{ username: 'm@example.com', password: 'pw' }] } });
    const store = encodeURIComponent('EU/1 ü');
    const ok = await post(s, `/api/${store}/member/login_check`, { username: 'm@example.com', password: 'pw' });
    expect(ok.status).toBe(200);
    const pair = (await ok.json()) as { token: string; refresh_token: string };
    expect(decodeJwt(pair.token).roles).toEqual(['ROLE_PARTICIPANT']);
    expect(
      (await post(s, `/api/eu%2F1%20%C3%BC/member/login_check`, { username: 'm@example.com', password: 'pw' })).status,
    ).toBe(404);
    expect(
      (await post(s, `/api/default/member/login_check`, { username: 'm@example.com', password: 'pw' })).status,
    ).toBe(404);
    // A member refresh token is only good at its own store's endpoint.
    expect((await post(s, '/api/token/refresh', { refresh_token: pair.refresh_token })).status).toBe(401);
    expect((await post(s, `/api/${store}/token/refresh`, { refresh_token: pair.refresh_token })).status).toBe(200);
  });

  it('answers a member token on an admin route with 403, and lets a member read itself only', async () => {
    const s = await start({
      stores: {
        default: [
          { username: 'a@example.com', password: 'pw' },
          { username: 'b@example.com', password: 'pw' },
        ],
      },
    });
    const res = await post(s, '/api/default/member/login_check', { username: 'a@example.com', password: 'pw' });
    const { token } = (await res.json()) as { token: string };
    const id = decodeJwt(token).id as string;
    expect((await get(s, '/api/default/member', token)).status).toBe(403);
    expect((await get(s, `/api/default/member/${id}`, token)).status).toBe(200);
    const admin = await adminLogin(s);
    const list = (await (await get(s, '/api/default/member', admin.token)).json()) as {
      items: { customerId: string }[];
    };
    expect(list.items).toHaveLength(2);
    const other = list.items.find((m) => m.customerId !== id)!.customerId;
    expect((await get(s, `/api/default/member/${other}`, token)).status).toBe(403);
    expect(s.counters.apiForbidden).toBe(2);
  });

  it('accepts API keys in X-AUTH-TOKEN or ?auth_token=, and rejects unknown, removed and expired keys', async () => {
    const s = await start({ apiKeys: [{ key: 'key-1234567890' }, { key: 'old-key-123', expiresAt: Date.now() - 1 }] });
    expect((await fetch(`${s.url}/api/default/member`, { headers: { 'x-auth-token': 'key-1234567890' } })).status).toBe(
      200,
    );
    expect((await fetch(`${s.url}/api/echo?auth_token=key-1234567890`)).status).toBe(200);
    expect((await fetch(`${s.url}/api/echo`, { headers: { 'x-auth-token': 'old-key-123' } })).status).toBe(401);
    s.removeApiKey('key-1234567890');
    expect((await fetch(`${s.url}/api/echo`, { headers: { 'x-auth-token': 'key-1234567890' } })).status).toBe(401);
    expect(s.counters.apiRejected).toBe(2);
  });
});

describe('OpenLoyalty reference server: echo', () => {
  it('echoes method, path, query, content type and the raw body (text or base64)', async () => {
    const s = await start();
    const { token } = await adminLogin(s);
    const text = await fetch(`${s.url}/api/echo?a=1&a=2&b=x`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'héllo',
    });
    const e1 = (await text.json()) as OpenLoyaltyEcho;
    expect(e1).toMatchObject({
      method: 'PUT',
      path: '/api/echo',
      query: { a: ['1', '2'], b: 'x' },
      contentType: 'text/plain',
      body: 'héllo',
      bodyEncoding: 'utf8',
      user: { kind: 'admin', username: 'admin' },
    });
    expect(e1.headers.authorization).toBe('[present]');
    const bytes = new Uint8Array([0xff, 0x00, 0xfe, 0x80]);
    const bin = await fetch(`${s.url}/api/echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    const e2 = (await bin.json()) as OpenLoyaltyEcho;
    expect(e2.bodyEncoding).toBe('base64');
    expect(Buffer.from(e2.body, 'base64')).toEqual(Buffer.from(bytes));
  });
});

describe('OpenLoyalty reference server: rate limit, faults, counters', () => {
  it('limits admin login + refresh to max per window with 429 and Retry-After, and counts the largest window', async () => {
    const s = await start({ rateLimit: { max: 3, windowMs: 1000 } });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i += 1) {
      const res = await post(s, '/api/admin/login_check', { username: 'admin', password: 'password' });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(retryAfter).toBe('1');
    expect(s.counters).toMatchObject({ rateLimited: 2, logins: 3, authCalls: 5, maxAuthCallsInWindow: 5 });
    // Member endpoints are not limited unless asked.
    expect(
      (await post(s, '/api/default/member/login_check', { username: 'member@example.com', password: 'password' }))
        .status,
    ).toBe(200);
    s.resetCounters();
    expect(s.counters).toMatchObject({ rateLimited: 0, logins: 0, maxAuthCallsInWindow: 0 });
  });

  it('can limit per account', async () => {
    const s = await start({
      admins: [
        { username: 'a', password: 'pa' },
        { username: 'b', password: 'pb' },
      ],
      rateLimit: { max: 1, windowMs: 5000, scope: 'account' },
    });
    expect((await post(s, '/api/admin/login_check', { username: 'a', password: 'pa' })).status).toBe(200);
    expect((await post(s, '/api/admin/login_check', { username: 'b', password: 'pb' })).status).toBe(200);
    expect((await post(s, '/api/admin/login_check', { username: 'a', password: 'pa' })).status).toBe(429);
  });

  it('injects status, HTML, malformed JSON, delay and reset faults for a number of calls', async () => {
    const s = await start();
    s.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 503 }, times: 2 });
    s.faults.add({ endpoint: 'login', fault: { kind: 'html' } });
    s.faults.add({ endpoint: 'login', fault: { kind: 'malformed-json' } });
    s.faults.add({ endpoint: 'login', fault: { kind: 'reset' } });
    const login = () => post(s, '/api/admin/login_check', { username: 'admin', password: 'password' });
    expect((await login()).status).toBe(503);
    expect((await login()).status).toBe(503);
    const html = await login();
    expect(html.headers.get('content-type')).toMatch(/html/);
    await html.text();
    const bad = await login();
    expect(bad.status).toBe(200);
    await expect(bad.json()).rejects.toThrow();
    await expect(login()).rejects.toThrow();
    expect((await login()).status).toBe(200);
    expect(s.counters).toMatchObject({ authCalls: 6, logins: 1 });
  });

  it('delays a call and then answers it normally; limits member endpoints when asked', async () => {
    const s = await start({ rateLimit: { max: 1, windowMs: 5000, includeMember: true, retryAfter: false } });
    s.faults.add({ endpoint: 'member-login', fault: { kind: 'delay', ms: 200 } });
    const t0 = Date.now();
    const member = () =>
      post(s, '/api/default/member/login_check', { username: 'member@example.com', password: 'password' });
    expect((await member()).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    const limited = await member();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(s.counters).toMatchObject({ logins: 1, rateLimited: 1 });
  });

  it('records requests without bodies', async () => {
    const s = await start();
    await adminLogin(s);
    await get(s, '/api/nowhere');
    expect(s.requests.map((r) => [r.method, r.path, r.endpoint, r.status])).toEqual([
      ['POST', '/api/admin/login_check', 'login', 200],
      ['GET', '/api/nowhere', 'other', 404],
    ]);
  });
});
