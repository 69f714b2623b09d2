import { inspect } from 'node:util';
import { createAuthSession, type AuthSession, type AuthSessionOptions, type Logger } from '@auth/core';
import { createDatarheiServer, type DatarheiServer, type DatarheiServerOptions } from '@auth/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { datarheiPassword } from '../src/index.js';
import { failure } from '../../core/test/leaks.js';

const PASSWORD = 'correct-horse-battery-staple';
const servers: DatarheiServer[] = [];
const sessions: AuthSession[] = [];

afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A clock shared by the server and the session, so that token lifetimes pass without waiting. */
function fakeClock() {
  let t = Date.parse('2026-03-01T12:00:00Z');
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function setup(opts: { server?: DatarheiServerOptions; session?: AuthSessionOptions; password?: string } = {}) {
  const clock = fakeClock();
  const server = await createDatarheiServer({
    username: 'admin',
    password: PASSWORD,
    failedLoginDelayMs: 5,
    now: clock.now,
    ...opts.server,
  });
  servers.push(server);
  const logs: string[] = [];
  const events: string[] = [];
  const logger: Logger = {
    debug: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`),
    info: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`),
    warn: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`),
    error: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`),
  };
  const strategy = datarheiPassword({ baseUrl: server.url, username: 'admin', password: opts.password ?? PASSWORD });
  const session = createAuthSession(strategy, {
    now: clock.now,
    logger,
    retry: { baseDelayMs: 5 },
    on: { failure: (e) => events.push(JSON.stringify({ ...e, error: e.error.toJSON() })) },
    ...opts.session,
  });
  sessions.push(session);
  return { server, session, clock, logs, events, strategy };
}

/** What an adapter does: send with the token; on "token rejected" renew once and replay. */
async function callApi(session: AuthSession, url: string): Promise<Response> {
  const tokens = await session.getToken();
  const res = await fetch(url, { headers: session.authorize(tokens) });
  if (!session.isTokenRejected(res)) return res;
  const fresh = await session.tokenRejected(tokens.accessToken);
  return fetch(url, { headers: session.authorize(fresh) });
}

describe('datarheiPassword against the reference Core server', () => {
  it('logs in once and reads both expiries from exp/exi', async () => {
    const { server, session, clock } = await setup();
    const results = await Promise.all([session.getToken(), session.getToken(), session.getToken()]);
    expect(new Set(results.map((t) => t.accessToken)).size).toBe(1);
    const tokens = results[0]!;
    expect(tokens.expiresAt).toBe(clock.now() + 600_000);
    expect(tokens.refreshExpiresAt).toBe(clock.now() + 86_400_000);
    expect(server.counters).toMatchObject({ loginAttempts: 1, logins: 1 });
    expect((await callApi(session, `${server.url}/api/v3/process`)).status).toBe(200);
  });

  it('refreshes with GET /api/login/refresh and keeps the refresh token', async () => {
    const { server, session, clock } = await setup();
    const first = await session.getToken();
    clock.advance(590_000); // inside the refresh-ahead window of the 10-minute token
    clock.advance(15_000); // and past its expiry
    const second = await session.getToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).toBe(first.refreshToken);
    expect(second.refreshExpiresAt).toBe(first.refreshExpiresAt);
    expect(server.counters).toMatchObject({ logins: 1, refreshes: 1 });
    expect((await callApi(session, `${server.url}/api/v3/process`)).status).toBe(200);
  });

  it('logs in without trying the refresh token once it has expired locally', async () => {
    const { server, session, clock } = await setup({ server: { refreshTokenTtlSeconds: 3_600 } });
    const first = await session.getToken();
    clock.advance(3_601_000);
    const second = await session.getToken();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(server.counters).toMatchObject({ logins: 2, refreshes: 0, failedRefreshes: 0 });
  });

  it('logs in again when the server rejects the refresh token', async () => {
    const { server, session } = await setup();
    await session.getToken();
    server.expireRefreshTokens();
    const next = await session.refresh();
    expect(server.counters).toMatchObject({ logins: 2, refreshes: 0, failedRefreshes: 1 });
    expect((await fetch(`${server.url}/api/v3/process`, { headers: session.authorize(next) })).status).toBe(200);
  });

  it('refreshes once and replays when an API call answers 401', async () => {
    const { server, session } = await setup();
    await session.getToken();
    server.revokeAccessTokens();
    const res = await callApi(session, `${server.url}/api/v3/process`);
    expect(res.status).toBe(200);
    expect(server.counters).toMatchObject({ logins: 1, refreshes: 1, rejectedCalls: 1 });
  });

  it('never refreshes on a 403 from an API call', async () => {
    const { server, session } = await setup({ server: { statusCodes: 'newer' } });
    await session.getToken();
    server.faults.add({
      endpoint: 'api',
      fault: { kind: 'status', status: 403, body: { code: 403, message: 'Forbidden', details: ['access denied'] } },
      times: 5,
    });
    const res = await callApi(session, `${server.url}/api/v3/process`);
    expect(res.status).toBe(403);
    expect(session.isTokenRejected({ status: 403 })).toBe(false);
    expect(server.counters).toMatchObject({ logins: 1, refreshes: 0, failedRefreshes: 0, faults: 1 });
  });

  it.each([
    ['v16', 401],
    ['newer', 403],
  ] as const)(
    'rejects wrong credentials (%s Core, HTTP %i) after one call, with no password in sight',
    async (statusCodes, status) => {
      const wrong = 'wrong-password-9876';
      const { server, session, logs, events } = await setup({ server: { statusCodes }, password: wrong });
      const error = await failure(session.getToken());
      expect(error.code).toBe('CREDENTIALS_REJECTED');
      expect(error.status).toBe(status);
      expect(error.transient).toBe(false);
      expect(server.counters).toMatchObject({ loginAttempts: 1, failedLogins: 1 });
      const everything = [
        error.message,
        JSON.stringify(error),
        inspect(error),
        String(error.stack),
        ...logs,
        ...events,
      ].join('\n');
      expect(everything).toContain('invalid username or password');
      expect(everything).not.toContain(wrong);
      expect(everything).not.toContain(PASSWORD);
    },
  );

  it("waits out Core's delayed rejection of a login even with a shorter session timeout: CREDENTIALS_REJECTED, not retried TIMEOUTs", async () => {
    const { server, session } = await setup({
      server: { failedLoginDelayMs: 600 },
      session: { timeoutMs: 200 },
      password: 'wrong-password-9876',
    });
    const error = await failure(session.getToken());
    expect(error.code).toBe('CREDENTIALS_REJECTED');
    expect(server.counters).toMatchObject({ loginAttempts: 1, failedLogins: 1 });
  });

  it('treats 400 Missing authorization credentials as a configuration error, not retried', async () => {
    const { server, session } = await setup();
    server.faults.add({
      endpoint: 'login',
      fault: {
        kind: 'status',
        status: 400,
        body: { code: 400, message: 'Bad Request', details: ['Missing authorization credentials'] },
      },
      times: 3,
    });
    const error = await failure(session.getToken());
    expect(error.code).toBe('CONFIGURATION');
    expect(error.status).toBe(400);
    expect(error.message).toContain('Missing authorization credentials');
    expect(server.counters.faults).toBe(1);
  });

  it('reports malformed JSON and HTML answers as BAD_RESPONSE without retrying', async () => {
    const { server, session } = await setup();
    server.faults.add({ endpoint: 'login', fault: { kind: 'malformed-json' } });
    const malformed = await failure(session.getToken());
    expect(malformed.code).toBe('BAD_RESPONSE');
    expect(malformed.message).toContain('malformed JSON');
    server.faults.add({ endpoint: 'login', fault: { kind: 'html', status: 200 } });
    const html = await failure(session.getToken());
    expect(html.code).toBe('BAD_RESPONSE');
    expect(html.message).toContain('HTML');
    expect(server.counters).toMatchObject({ faults: 2, loginAttempts: 0 });
    // A well-formed answer after them works.
    await session.getToken();
    expect(server.counters.logins).toBe(1);
  });

  it('rejects a 200 answer without the token pair', async () => {
    const { server, session } = await setup();
    server.faults.add({
      endpoint: 'login',
      fault: { kind: 'status', status: 200, body: { access_token: 'only-one' } },
    });
    expect((await failure(session.getToken())).code).toBe('BAD_RESPONSE');
  });

  it('retries a 502 HTML page from a proxy and then succeeds', async () => {
    const { server, session, events } = await setup();
    server.faults.add({ endpoint: 'login', fault: { kind: 'html' } });
    await session.getToken();
    expect(server.counters).toMatchObject({ faults: 1, logins: 1 });
    expect(events.map((e) => (JSON.parse(e) as { error: { code: string } }).error.code)).toEqual(['SERVER_ERROR']);
  });

  it('resumes from exported tokens without logging in', async () => {
    const { server, session, clock } = await setup();
    await session.getToken();
    const exported = await session.exportTokens();
    const resumed = createAuthSession(
      datarheiPassword({ baseUrl: server.url, username: 'admin', password: PASSWORD }),
      { now: clock.now, initialTokens: exported! },
    );
    sessions.push(resumed);
    expect((await callApi(resumed, `${server.url}/api/v3/process`)).status).toBe(200);
    // Its access token expires: it refreshes with the imported refresh token.
    clock.advance(601_000);
    await resumed.getToken();
    expect(server.counters).toMatchObject({ logins: 1, refreshes: 1 });
    // A bare pair (as the official clients export it) also resumes, expiries read from the JWTs.
    const pair = await server.issueTokens();
    const other = createAuthSession(datarheiPassword({ baseUrl: server.url, username: 'admin', password: PASSWORD }), {
      now: clock.now,
    });
    sessions.push(other);
    await other.importTokens({ accessToken: pair.access_token, refreshToken: pair.refresh_token });
    expect((await other.getToken()).accessToken).toBe(pair.access_token);
    expect(server.counters.logins).toBe(1);
  });

  it('declares its origins, auth endpoints and store key', async () => {
    const { server, strategy } = await setup();
    expect(strategy.origins).toEqual([server.url]);
    expect(strategy.authEndpoints).toEqual([`${server.url}/api/login`, `${server.url}/api/login/refresh`]);
    expect(strategy.storeKey).toBe(`datarhei-password:admin@${server.url}`);
    expect(strategy.rateLimit).toBeUndefined();
    const session = createAuthSession(strategy);
    expect(session.mayAuthorize(`${server.url}/api/v3/process`)).toBe(true);
    expect(session.mayAuthorize(`${server.url}/api/login/refresh`)).toBe(false);
    expect(session.mayAuthorize('https://elsewhere.example/api/v3/process')).toBe(false);
  });

  it('refuses unusable options with a configuration error that names no secret', () => {
    expect(() => datarheiPassword({ baseUrl: 'not a url', username: 'admin', password: PASSWORD })).toThrowError(
      expect.objectContaining({ code: 'CONFIGURATION' }) as Error,
    );
    expect(() => datarheiPassword({ baseUrl: 'ftp://core', username: 'admin', password: PASSWORD })).toThrowError(
      /http/,
    );
    expect(() => datarheiPassword({ baseUrl: 'http://core', username: '', password: PASSWORD })).toThrowError(
      /username/,
    );
    expect(() => datarheiPassword({ baseUrl: 'http://core', username: 'admin', password: '' })).toThrowError(
      /password/,
    );
  });
});
