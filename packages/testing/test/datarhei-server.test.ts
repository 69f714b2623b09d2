import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDatarheiServer,
  listen,
  sendJson,
  type DatarheiServer,
  type DatarheiServerOptions,
  type RunningServer,
} from '../src/index.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: DatarheiServerOptions = {}): Promise<DatarheiServer> {
  const server = await createDatarheiServer({
    username: 'admin',
    password: 'pw-1234',
    failedLoginDelayMs: 5,
    ...options,
  });
  servers.push(server);
  return server;
}

function login(
  server: DatarheiServer,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  return fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

describe('datarhei reference server: password login and tokens', () => {
  it('issues an HS256 pair with Core claims and lifetimes', async () => {
    const server = await start();
    const res = await login(server, { username: 'admin', password: 'pw-1234' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'refresh_token']);
    const access = decodeJwt(body.access_token!);
    const refresh = decodeJwt(body.refresh_token!);
    expect(access).toMatchObject({ iss: 'datarhei-core', sub: 'admin', usefor: 'access', exi: 600 });
    expect(refresh).toMatchObject({ iss: 'datarhei-core', sub: 'admin', usefor: 'refresh', exi: 86_400 });
    expect(access.exp! - access.iat!).toBe(600);
    expect(typeof access.jti).toBe('string');
    expect(JSON.parse(Buffer.from(body.access_token!.split('.')[0]!, 'base64url').toString())).toMatchObject({
      alg: 'HS256',
    });
    expect(server.counters).toMatchObject({ loginAttempts: 1, logins: 1, failedLogins: 0 });
  });

  it('answers wrong credentials with 401 and Core’s error body, no WWW-Authenticate', async () => {
    const server = await start();
    const res = await login(server, { username: 'admin', password: 'nope' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toEqual({
      code: 401,
      message: 'Unauthorized',
      details: ['Invalid authorization credentials: invalid username or password'],
    });
    expect(server.counters.failedLogins).toBe(1);
  });

  it.each([
    ['an empty object', {}, undefined],
    ['a missing password', { username: 'admin' }, undefined],
    ['malformed JSON', '{"username":', undefined],
    ['a wrong content type', { username: 'admin', password: 'pw-1234' }, { 'content-type': 'text/plain' }],
  ])('answers %s with 400 Missing authorization credentials', async (_name, body, headers) => {
    const server = await start();
    const res = await login(server, body, headers);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 400,
      message: 'Bad Request',
      details: ['Missing authorization credentials'],
    });
  });

  it('delays failed logins by 5 s unless told otherwise', async () => {
    const server = await createDatarheiServer({ username: 'admin', password: 'pw-1234' });
    servers.push(server);
    expect(server.failedLoginDelayMs).toBe(5_000);
    let settled = false;
    const pending = login(server, { username: 'admin', password: 'wrong' }).then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 300));
    // The answer is still being held back; closing the server drops it.
    expect(settled).toBe(false);
    expect(server.counters.failedLogins).toBe(1);
    await server.close();
    await pending;
  });

  it('refreshes with GET and the refresh token, returning only an access token', async () => {
    const server = await start();
    const pair = (await (await login(server, { username: 'admin', password: 'pw-1234' })).json()) as Record<
      string,
      string
    >;
    const res = await fetch(`${server.url}/api/login/refresh`, { headers: bearer(pair.refresh_token!) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body)).toEqual(['access_token']);
    expect(decodeJwt(body.access_token!).usefor).toBe('access');
    // The refresh token is not rotated: it still works.
    expect((await fetch(`${server.url}/api/login/refresh`, { headers: bearer(pair.refresh_token!) })).status).toBe(200);
    expect(server.counters.refreshes).toBe(2);
  });

  it('rejects an access token used as refresh token, a POST refresh and the reverse use on API routes', async () => {
    const server = await start();
    const pair = (await (await login(server, { username: 'admin', password: 'pw-1234' })).json()) as Record<
      string,
      string
    >;
    const wrongUse = await fetch(`${server.url}/api/login/refresh`, { headers: bearer(pair.access_token!) });
    expect(wrongUse.status).toBe(401);
    expect(await wrongUse.json()).toEqual({
      code: 401,
      message: 'Unauthorized',
      details: ['Missing or invalid JWT token'],
    });
    expect(
      (await fetch(`${server.url}/api/login/refresh`, { method: 'POST', headers: bearer(pair.refresh_token!) })).status,
    ).toBe(401);
    expect((await fetch(`${server.url}/api/v3/process`, { headers: bearer(pair.refresh_token!) })).status).toBe(401);
    expect((await fetch(`${server.url}/api/v3/process`, { headers: bearer(pair.access_token!) })).status).toBe(200);
    expect(server.counters).toMatchObject({
      failedRefreshes: 2,
      rejectedCalls: 1,
      apiCalls: { 'GET /api/v3/process': 1 },
    });
  });

  it('rejects expired tokens by their exp on the server clock', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const server = await start({ now: () => clock, accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 120 });
    const pair = await server.issueTokens();
    clock += 61_000;
    expect((await fetch(`${server.url}/api/v3/process`, { headers: bearer(pair.access_token) })).status).toBe(401);
    expect((await fetch(`${server.url}/api/login/refresh`, { headers: bearer(pair.refresh_token) })).status).toBe(200);
    clock += 60_000;
    expect((await fetch(`${server.url}/api/login/refresh`, { headers: bearer(pair.refresh_token) })).status).toBe(401);
  });

  it('protects /api/v3 routes: 401 without a token, HEAD with an empty body, case-insensitive scheme', async () => {
    const server = await start();
    const pair = await server.issueTokens();
    const none = await fetch(`${server.url}/api/v3/process`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBeNull();
    const head = await fetch(`${server.url}/api/v3/process`, { method: 'HEAD' });
    expect(head.status).toBe(401);
    expect(await head.text()).toBe('');
    expect(
      (await fetch(`${server.url}/api/v3/process`, { headers: { authorization: `bEaReR ${pair.access_token}` } }))
        .status,
    ).toBe(200);
    expect(await (await fetch(`${server.url}/ping`)).text()).toBe('pong');
  });

  it('stores and echoes metadata on a protected route', async () => {
    const server = await start();
    const { access_token } = await server.issueTokens();
    const put = await fetch(`${server.url}/api/v3/metadata/k1`, {
      method: 'PUT',
      headers: { ...bearer(access_token), 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await put.json()).toEqual({ a: 1 });
    expect(await (await fetch(`${server.url}/api/v3/metadata/k1`, { headers: bearer(access_token) })).json()).toEqual({
      a: 1,
    });
    expect((await fetch(`${server.url}/api/v3/metadata/missing`, { headers: bearer(access_token) })).status).toBe(404);
    expect(server.counters.apiCalls).toEqual({ 'PUT /api/v3/metadata/{key}': 1, 'GET /api/v3/metadata/{key}': 2 });
  });

  it('answers with the newer status codes when asked', async () => {
    const server = await start({ statusCodes: 'newer' });
    expect((await login(server, { username: 'admin', password: 'nope' })).status).toBe(403);
    const missing = await fetch(`${server.url}/api/v3/process`);
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ details: ['access denied'] });
    const invalid = await fetch(`${server.url}/api/v3/process`, { headers: bearer('x.y.z') });
    expect(invalid.status).toBe(401);
    expect(await invalid.json()).toMatchObject({ details: ['invalid token'] });
  });

  it('revokes access tokens and expires refresh tokens on demand', async () => {
    const server = await start();
    const pair = await server.issueTokens();
    expect(server.revokeAccessTokens()).toBe(1);
    expect((await fetch(`${server.url}/api/v3/process`, { headers: bearer(pair.access_token) })).status).toBe(401);
    expect(server.expireRefreshTokens()).toBe(1);
    expect((await fetch(`${server.url}/api/login/refresh`, { headers: bearer(pair.refresh_token) })).status).toBe(401);
    // Tokens issued afterwards work.
    const next = await server.issueTokens();
    expect((await fetch(`${server.url}/api/login/refresh`, { headers: bearer(next.refresh_token) })).status).toBe(200);
  });

  it('injects faults per endpoint and lists its auth methods', async () => {
    const server = await start();
    server.faults.add({ endpoint: 'login', fault: { kind: 'html' } });
    const html = await login(server, { username: 'admin', password: 'pw-1234' });
    expect(html.status).toBe(502);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect((await login(server, { username: 'admin', password: 'pw-1234' })).status).toBe(200);
    expect(server.counters.faults).toBe(1);
    expect(await (await fetch(`${server.url}/api`)).json()).toMatchObject({
      app: 'datarhei-core',
      auths: ['localjwt'],
    });
  });
});

describe('datarhei reference server: Auth0 login', () => {
  async function tenant() {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    let jwksCalls = 0;
    const issuerServer = await listen((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        jwksCalls += 1;
        return sendJson(res, 200, { keys: [jwk] });
      }
      sendJson(res, 404, {});
    });
    servers.push(issuerServer);
    const issuer = `${issuerServer.url}/`;
    const sign = (claims: Record<string, unknown>, iss = issuer) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(iss)
        .setIssuedAt()
        .setExpirationTime('1h')
        .setAudience('https://core.example/api')
        .sign(privateKey);
    return { issuer, sign, jwksCalls: () => jwksCalls };
  }

  it('accepts an RS256 token of an allowed user and issues Core tokens', async () => {
    const t = await tenant();
    const server = await start({
      auth0Tenants: [
        { issuer: t.issuer, users: ['svc@clients'], audience: 'https://core.example/api', clientId: 'cid' },
      ],
    });
    const res = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: bearer(await t.sign({ sub: 'svc@clients' })),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(decodeJwt(body.access_token!).sub).toBe('svc@clients');
    expect(server.counters).toMatchObject({ logins: 1, auth0Logins: 1 });
    expect(t.jwksCalls()).toBe(1);
    const about = (await (await fetch(`${server.url}/api`)).json()) as { auths: string[] };
    expect(about.auths[1]).toBe(
      `auth0 domain=${new URL(t.issuer).host} audience=https://core.example/api clientid=cid`,
    );
  });

  it('rejects a user not on the list, a foreign issuer and a bad signature with 401', async () => {
    const t = await tenant();
    const other = await tenant();
    const server = await start({ auth0Tenants: [{ issuer: t.issuer, users: ['svc@clients'] }] });
    const post = async (token: string) => {
      const res = await fetch(`${server.url}/api/login`, { method: 'POST', headers: bearer(token) });
      return { status: res.status, body: await res.json() };
    };
    expect(await post(await t.sign({ sub: 'intruder@clients' }))).toEqual({
      status: 401,
      body: { code: 401, message: 'Unauthorized', details: ['Invalid authorization credentials: user not allowed'] },
    });
    expect((await post(await other.sign({ sub: 'svc@clients' }))).status).toBe(401);
    // Signed by another key but claiming this tenant's issuer.
    expect((await post(await other.sign({ sub: 'svc@clients' }, t.issuer))).status).toBe(401);
    // The issuer must match exactly (trailing slash included).
    expect((await post(await t.sign({ sub: 'svc@clients' }, t.issuer.slice(0, -1)))).status).toBe(401);
    expect(server.counters).toMatchObject({ logins: 0, failedLogins: 4 });
  });
});
