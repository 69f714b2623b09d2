import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  createAuthSession,
  memoryTokenStore,
  type AuthSession,
  type AuthSessionOptions,
  type FixedPassword,
  type Logger,
} from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer, type OpenLoyaltyServerOptions } from '@auth/testing';
import { openLoyaltyAdmin, type OpenLoyaltyAdminOptions } from '@auth/openloyalty-admin';

const PASSWORD = 'Adm1n-s3cret-passw0rd';
const started: OpenLoyaltyServer[] = [];
const sessions: AuthSession[] = [];
async function start(opts: OpenLoyaltyServerOptions = {}) {
  const s = await createOpenLoyaltyServer({ admins: [{ username: 'admin@example.com', password: PASSWORD }], ...opts });
  started.push(s);
  return s;
}
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await Promise.all(started.splice(0).map((s) => s.close()));
});

function session(
  s: OpenLoyaltyServer,
  opts: AuthSessionOptions & { strategy?: Partial<OpenLoyaltyAdminOptions & FixedPassword> } = {},
) {
  const { strategy, ...rest } = opts;
  const sess = createAuthSession(
    openLoyaltyAdmin({
      baseUrl: s.url,
      username: 'admin@example.com',
      password: PASSWORD,
      rateLimit: { windowMs: 1500 },
      ...strategy,
    }),
    {
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      ...rest,
    },
  );
  sessions.push(sess);
  return sess;
}

/** What an adapter does: attach the token, and on a rejection renew once and replay once. */
async function call(sess: AuthSession, url: string): Promise<Response> {
  const tokens = await sess.getToken();
  const res = await fetch(url, { headers: sess.authorize(tokens) });
  if (!sess.isTokenRejected(res)) return res;
  await res.body?.cancel();
  const fresh = await sess.tokenRejected(tokens.accessToken);
  return fetch(url, { headers: sess.authorize(fresh) });
}

function capture() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
    info: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
    warn: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
    error: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
  };
  return { lines, logger };
}

function expectNoSecret(error: unknown, ...secrets: string[]) {
  expect(error).toBeInstanceOf(AuthError);
  const e = error as AuthError;
  for (const secret of secrets) {
    expect(e.message).not.toContain(secret);
    expect(JSON.stringify(e)).not.toContain(secret);
    expect(inspect(e)).not.toContain(secret);
    expect(inspect(e, { showHidden: true, depth: 5 })).not.toContain(secret);
  }
}

describe('openLoyaltyAdmin: login and refresh', () => {
  it('logs in once and serves the token to protected routes', async () => {
    const s = await start();
    const sess = session(s);
    const [a, b] = await Promise.all([sess.getToken(), sess.getToken()]);
    expect(a.accessToken).toBe(b.accessToken);
    expect(a.refreshToken).toMatch(/^[0-9a-f]+$/);
    expect(a.expiresAt! - a.issuedAt!).toBe(86_400_000);
    const res = await call(sess, `${s.url}/api/echo`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: { username: string } }).user.username).toBe('admin@example.com');
    expect(s.counters).toMatchObject({ logins: 1, refreshes: 0 });
  });

  it('declares origins, auth endpoints, a per-account store key and a 20-per-minute budget', () => {
    const strategy = openLoyaltyAdmin({
      baseUrl: 'https://tenant.example.com/prefix/',
      username: 'alice',
      password: PASSWORD,
    });
    expect(strategy.origins).toEqual(['https://tenant.example.com']);
    expect(strategy.authEndpoints).toEqual([
      'https://tenant.example.com/prefix/api/admin/login_check',
      'https://tenant.example.com/prefix/api/token/refresh',
    ]);
    expect(strategy.rateLimit).toEqual({
      key: 'openloyalty-admin:https://tenant.example.com/prefix:alice',
      max: 20,
      windowMs: 60_000,
    });
    expect(strategy.storeKey).toContain('alice');
    expect(
      openLoyaltyAdmin({ baseUrl: 'https://tenant.example.com', username: 'bob', password: PASSWORD }).rateLimit!.key,
    ).not.toBe(strategy.rateLimit!.key);
    expect(inspect(strategy, { showHidden: true, depth: 5 })).not.toContain(PASSWORD);
    expect(JSON.stringify(strategy)).not.toContain(PASSWORD);
  });

  it('refreshes ahead of expiry with short lifetimes, keeping callers served', async () => {
    const s = await start({ accessTokenTtlSec: 2 });
    const sess = session(s);
    const first = await sess.getToken();
    const refreshed = new Promise((resolve) => sess.on('refresh', resolve));
    // Half of a 2 s token's life is its refresh-ahead point; poll like a busy client would.
    let served = first;
    while (s.counters.refreshes === 0) {
      served = await sess.getToken();
      expect(served.expiresAt! > Date.now()).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
    }
    await refreshed;
    const next = await sess.getToken();
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(next.refreshToken).not.toBe(first.refreshToken);
    expect(s.counters).toMatchObject({ logins: 1, refreshes: 1 });
    expect((await call(sess, `${s.url}/api/echo`)).status).toBe(200);
  });

  it('stores the rotated refresh token; the old one is rejected by the server afterwards', async () => {
    const s = await start();
    const sess = session(s);
    const first = await sess.getToken();
    const second = await sess.refresh();
    const third = await sess.refresh();
    expect(new Set([first.refreshToken, second.refreshToken, third.refreshToken]).size).toBe(3);
    expect((await sess.exportTokens())?.refreshToken).toBe(third.refreshToken);
    expect(s.liveRefreshTokens('admin@example.com')).toBe(1);
    const replay = await fetch(`${s.url}/api/token/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: first.refreshToken }),
    });
    expect(replay.status).toBe(401);
    expect(s.counters).toMatchObject({ logins: 1, refreshes: 2 });
  });

  it('sessions sharing a store never spend a refresh token another one has rotated away', async () => {
    const s = await start();
    const store = memoryTokenStore();
    const a = session(s, { store });
    const b = session(s, { store });
    const first = await a.getToken();
    expect((await b.getToken()).accessToken).toBe(first.accessToken);
    const rotated = await a.refresh();
    // B still holds the first token; the server rejects it: B must adopt A's pair, not refresh with the dead one.
    s.revokeAccessTokens();
    expect((await b.tokenRejected(first.accessToken)).refreshToken).toBe(rotated.refreshToken);
    await b.refresh();
    await a.getToken();
    expect(s.counters).toMatchObject({ logins: 1, refreshes: 2, refreshesRejected: 0 });
  });

  it('falls back to a login when the refresh token is dead', async () => {
    const s = await start();
    const sess = session(s);
    await sess.getToken();
    s.expireRefreshTokens('admin@example.com');
    const renewed = await sess.refresh();
    expect((await call(sess, `${s.url}/api/echo`)).status).toBe(200);
    expect(renewed.refreshToken).toBeDefined();
    expect(s.counters).toMatchObject({ logins: 2, refreshes: 0, refreshesRejected: 1 });
  });

  it('renews after the server invalidates an unexpired access token (401 on a protected route), then replays', async () => {
    const s = await start();
    const sess = session(s);
    const before = await sess.getToken();
    s.revokeAccessTokens('admin@example.com');
    const res = await call(sess, `${s.url}/api/echo`);
    expect(res.status).toBe(200);
    expect((await sess.getToken()).accessToken).not.toBe(before.accessToken);
    expect(s.counters).toMatchObject({ logins: 1, refreshes: 1, apiRejected: 1 });
  });
});

describe('openLoyaltyAdmin: logout', () => {
  it('calls revoke: every refresh token of the user dies and the session forgets its tokens', async () => {
    const s = await start();
    const sess = session(s);
    const tokens = await sess.getToken();
    await sess.logout();
    expect(s.counters.revokes).toBe(1);
    expect(s.liveRefreshTokens('admin@example.com')).toBe(0);
    expect(await sess.exportTokens()).toBeUndefined();
    const replay = await fetch(`${s.url}/api/token/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: tokens.refreshToken }),
    });
    expect(replay.status).toBe(401);
  });

  it('still revokes when the access token has expired, by renewing it first', async () => {
    const s = await start();
    const imported = await s.issueTokens({ username: 'admin@example.com', accessTokenTtlSec: -30 });
    const sess = session(s, { initialTokens: { accessToken: imported.token, refreshToken: imported.refresh_token } });
    await sess.logout();
    expect(s.counters).toMatchObject({ revokes: 1, refreshes: 1, logins: 0 });
    expect(s.liveRefreshTokens('admin@example.com')).toBe(0);
  });

  it('revokes after the server invalidated the access token early (401 on revoke)', async () => {
    const s = await start();
    const sess = session(s);
    await sess.getToken();
    s.revokeAccessTokens();
    await sess.logout();
    expect(s.counters).toMatchObject({ revokes: 1, revokesRejected: 1, refreshes: 1, apiRejected: 0 });
    expect(s.liveRefreshTokens()).toBe(0);
  });

  it('a revoke retried after a 5xx uses the refresh token it rotated, so logout still kills every refresh token', async () => {
    const s = await start();
    const imported = await s.issueTokens({ username: 'admin@example.com', accessTokenTtlSec: -30 });
    const sess = session(s, { initialTokens: { accessToken: imported.token, refreshToken: imported.refresh_token } });
    // The renewal inside logout rotates the refresh token; then the revoke itself fails once.
    s.faults.add({ endpoint: 'revoke', fault: { kind: 'status', status: 503 } });
    await sess.logout();
    expect(s.counters).toMatchObject({ revokes: 1, refreshes: 1, refreshesRejected: 0, logins: 0 });
    expect(s.liveRefreshTokens('admin@example.com')).toBe(0);
  });
});

describe('openLoyaltyAdmin: rejected credentials and configuration', () => {
  it.each(['spec', 'bundle'] as const)(
    'rejects a wrong password with CREDENTIALS_REJECTED, once, without echoing it (%s body)',
    async (errorBodies) => {
      const s = await start({ errorBodies });
      const { lines, logger } = capture();
      const events: unknown[] = [];
      const sess = session(s, {
        logger,
        strategy: { password: 'Wr0ng-passw0rd-123' },
        on: { failure: (e) => events.push(e) },
      });
      const error = await sess.getToken().catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'CREDENTIALS_REJECTED',
        status: 401,
        operation: 'login',
        strategy: 'openloyalty-admin',
      });
      expectNoSecret(error, 'Wr0ng-passw0rd-123', PASSWORD);
      expect(s.counters).toMatchObject({ authCalls: 1, loginsRejected: 1 });
      expect(lines.join('\n')).not.toContain('Wr0ng-passw0rd-123');
      expect(inspect(events, { depth: 6 })).not.toContain('Wr0ng-passw0rd-123');
    },
  );

  it('keeps the password and tokens out of errors even when the server echoes them back', async () => {
    const s = await start();
    s.faults.add({
      endpoint: 'login',
      fault: { kind: 'status', status: 401, body: { message: `Bad credentials: password ${PASSWORD} is wrong` } },
    });
    const sess = session(s, { retry: { retries: 1, baseDelayMs: 5, maxDelayMs: 10 } });
    const rejected = await sess.getToken().catch((e: unknown) => e);
    expect(rejected).toMatchObject({ code: 'CREDENTIALS_REJECTED' });
    expectNoSecret(rejected, PASSWORD);
    const tokens = await sess.getToken();
    s.faults.add({
      endpoint: 'refresh',
      fault: { kind: 'status', status: 500, body: { message: `cannot rotate ${tokens.refreshToken}` } },
      times: 2,
    });
    const failed = await sess.refresh().catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'SERVER_ERROR', operation: 'refresh' });
    expect((failed as Error).message).toContain('[redacted]');
    expectNoSecret(failed, tokens.refreshToken!, tokens.accessToken, PASSWORD);
    s.faults.add({
      endpoint: 'revoke',
      fault: { kind: 'status', status: 500, body: { message: `token ${tokens.accessToken}` } },
      times: 2,
    });
    const revokeFailed = await sess.logout().catch((e: unknown) => e);
    expect(revokeFailed).toMatchObject({ code: 'SERVER_ERROR', operation: 'revoke' });
    expectNoSecret(revokeFailed, tokens.accessToken, tokens.refreshToken!);
  });

  it('rejects unusable options with CONFIGURATION and no HTTP call', () => {
    expect(() => openLoyaltyAdmin({ baseUrl: 'not a url', username: 'a', password: PASSWORD })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION' }),
    );
    expect(() => openLoyaltyAdmin({ baseUrl: 'ftp://x.test', username: 'a', password: PASSWORD })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION' }),
    );
    expect(() => openLoyaltyAdmin({ baseUrl: 'https://x.test', username: '', password: PASSWORD })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION' }),
    );
    expect(() => openLoyaltyAdmin({ baseUrl: 'https://x.test', username: 'a', password: '' })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION' }),
    );
    expect(() =>
      openLoyaltyAdmin({ baseUrl: 'https://x.test', username: 'a', password: PASSWORD, rateLimit: { max: 0 } }),
    ).toThrow(expect.objectContaining({ code: 'CONFIGURATION' }));
  });

  it('reports a wrong base URL (404 on login) as CONFIGURATION, not retried', async () => {
    const s = await start();
    const sess = createAuthSession(
      openLoyaltyAdmin({ baseUrl: `${s.url}/nowhere`, username: 'admin@example.com', password: PASSWORD }),
      { retry: { baseDelayMs: 5 } },
    );
    sessions.push(sess);
    const error = await sess.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIGURATION', status: 404 });
    expectNoSecret(error, PASSWORD);
    expect(s.requests).toHaveLength(1);
  });
});

describe('openLoyaltyAdmin: server failures', () => {
  it('retries 5xx, resets and HTML gateway pages, then succeeds', async () => {
    const s = await start();
    s.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 503 } });
    s.faults.add({ endpoint: 'login', fault: { kind: 'reset' } });
    s.faults.add({ endpoint: 'login', fault: { kind: 'html', status: 502 } });
    const failures: string[] = [];
    const sess = session(s, { on: { failure: (e) => failures.push(e.error.code) } });
    await sess.getToken();
    expect(failures).toEqual(['SERVER_ERROR', 'NETWORK', 'SERVER_ERROR']);
    expect(s.counters).toMatchObject({ authCalls: 4, logins: 1 });
  });

  it('gives up on persistent 5xx with SERVER_ERROR after bounded retries', async () => {
    const s = await start();
    s.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 500 }, times: 100 });
    const sess = session(s, { retry: { retries: 2, baseDelayMs: 5, maxDelayMs: 10 } });
    const error = await sess.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SERVER_ERROR', status: 500, transient: true });
    expectNoSecret(error, PASSWORD);
    expect(s.counters.authCalls).toBe(3);
  });

  it('rejects malformed JSON, an HTML 200 and a body without "token" with BAD_RESPONSE, not retried', async () => {
    const s = await start();
    s.faults.add({ endpoint: 'login', fault: { kind: 'malformed-json' } });
    s.faults.add({ endpoint: 'login', fault: { kind: 'html', status: 200 } });
    s.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 200, body: { refresh_token: 'abc' } } });
    const sess = session(s);
    for (let i = 0; i < 3; i += 1) {
      const error = await sess.getToken().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'BAD_RESPONSE', operation: 'login' });
      expectNoSecret(error, PASSWORD);
    }
    expect(s.counters.authCalls).toBe(3);
    await sess.getToken();
    expect(s.counters.logins).toBe(1);
  });

  it('loses nothing when a refresh fails: the old tokens stay usable and the next refresh uses the same refresh token', async () => {
    const s = await start();
    const sess = session(s, { retry: { retries: 1, baseDelayMs: 5, maxDelayMs: 10 } });
    const before = await sess.getToken();
    s.faults.add({ endpoint: 'refresh', fault: { kind: 'malformed-json' } });
    await expect(sess.refresh()).rejects.toMatchObject({ code: 'BAD_RESPONSE', operation: 'refresh' });
    s.faults.add({ endpoint: 'refresh', fault: { kind: 'status', status: 503 }, times: 2 });
    await expect(sess.refresh()).rejects.toMatchObject({ code: 'SERVER_ERROR', operation: 'refresh' });
    expect(await sess.exportTokens()).toMatchObject({
      accessToken: before.accessToken,
      refreshToken: before.refreshToken,
    });
    expect((await call(sess, `${s.url}/api/echo`)).status).toBe(200);
    const after = await sess.refresh();
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(s.counters).toMatchObject({ logins: 1, refreshes: 1, refreshesRejected: 0 });
  });
});

describe('openLoyaltyAdmin: rate limit', () => {
  it('paces a burst of 60 forced logins under a 20-per-window limit: never more than 20 in any window, no 429, every caller settles', async () => {
    const s = await start({ rateLimit: { max: 20, windowMs: 1500 } });
    const many = Array.from({ length: 60 }, () => session(s, { strategy: { rateLimit: { max: 20, windowMs: 1500 } } }));
    const results = await Promise.allSettled(many.map((sess) => sess.login()));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(60);
    expect(s.counters.logins).toBe(60);
    expect(s.counters.rateLimited).toBe(0);
    expect(s.counters.maxAuthCallsInWindow).toBeLessThanOrEqual(20);
    expect(s.counters.maxAuthCallsInWindow).toBeGreaterThan(1);
  });

  it('honours a 429 with Retry-After when the server is stricter than the declared budget', async () => {
    const s = await start({ rateLimit: { max: 3, windowMs: 1000 } });
    const rateLimited: number[] = [];
    const many = Array.from({ length: 6 }, () =>
      session(s, {
        strategy: { rateLimit: { max: 20, windowMs: 1000 } },
        on: { 'rate-limited': (e) => rateLimited.push(e.retryAfterMs) },
      }),
    );
    const results = await Promise.allSettled(many.map((sess) => sess.login()));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(s.counters.logins).toBe(6);
    expect(s.counters.rateLimited).toBeGreaterThan(0);
    // Each 429 was waited out and retried once: no hammering.
    expect(s.counters.authCalls).toBe(6 + s.counters.rateLimited);
    expect(rateLimited.every((ms) => ms === 1000)).toBe(true);
  });

  it('waits a whole window after a 429 without Retry-After, then succeeds', async () => {
    const s = await start({ rateLimit: { max: 1, windowMs: 800, retryAfter: false } });
    const pauses: number[] = [];
    const a = session(s, {
      strategy: { rateLimit: { max: 20, windowMs: 800 } },
      on: { 'rate-limited': (e) => pauses.push(e.retryAfterMs) },
    });
    const b = session(s, { strategy: { rateLimit: { max: 20, windowMs: 800 } } });
    await a.login();
    await b.login();
    await a.login();
    expect(pauses.length).toBeGreaterThan(0);
    expect(pauses.every((ms) => ms === 800)).toBe(true);
    expect(s.counters.logins).toBe(3);
    expect(s.counters.authCalls).toBe(3 + s.counters.rateLimited);
  });

  it('shares one budget per account and base URL, separate for another account', () => {
    const a1 = openLoyaltyAdmin({ baseUrl: 'https://x.test', username: 'a', password: PASSWORD });
    const a2 = openLoyaltyAdmin({ baseUrl: 'https://x.test/', username: 'a', password: 'other-passw0rd' });
    const b = openLoyaltyAdmin({ baseUrl: 'https://x.test', username: 'b', password: PASSWORD });
    const other = openLoyaltyAdmin({ baseUrl: 'https://y.test', username: 'a', password: PASSWORD });
    expect(a1.rateLimit!.key).toBe(a2.rateLimit!.key);
    expect(new Set([a1.rateLimit!.key, b.rateLimit!.key, other.rateLimit!.key]).size).toBe(3);
  });
});
