import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, createAuthSession, memoryTokenStore, type AuthSessionOptions, type TokenStore } from '@auth/core';
import { startAcme, type Acme, type AcmeOptions } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';

let acme: Acme;
const started: Acme[] = [];
async function server(opts?: AcmeOptions) {
  const s = await startAcme(opts);
  started.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

function session(
  s: Acme,
  opts: Omit<AuthSessionOptions, 'rateLimit'> & {
    password?: string;
    rateLimit?: { max: number; windowMs: number };
  } = {},
) {
  const { password, rateLimit, ...rest } = opts;
  return createAuthSession(
    acmeStrategy({ baseUrl: s.url, username: 'alice', password: password ?? s.password, rateLimit }),
    { retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...rest },
  );
}

async function api(s: Acme, token: string) {
  return fetch(`${s.url}/api/things`, { headers: { authorization: `Bearer ${token}` } });
}

describe('single-flight', () => {
  beforeEach(async () => {
    acme = await server({ authDelayMs: 30 });
  });

  it('runs one login for 200 concurrent callers', async () => {
    const sess = session(acme);
    const tokens = await Promise.all(Array.from({ length: 200 }, () => sess.getToken()));
    expect(acme.counters.logins).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect((await api(acme, tokens[0]!.accessToken)).status).toBe(200);
  });

  it('refreshes once when 200 callers report the same rejected token, and later reports of it get the new token without another refresh', async () => {
    const sess = session(acme);
    const first = await sess.getToken();
    acme.revokeAccess();
    expect((await api(acme, first.accessToken)).status).toBe(401);
    const renewed = await Promise.all(Array.from({ length: 200 }, () => sess.tokenRejected(first.accessToken)));
    expect(acme.counters.refreshes).toBe(1);
    expect(new Set(renewed.map((t) => t.accessToken)).size).toBe(1);
    const late = await sess.tokenRejected(first.accessToken);
    expect(late.accessToken).toBe(renewed[0]!.accessToken);
    expect(acme.counters.refreshes).toBe(1);
    expect((await api(acme, late.accessToken)).status).toBe(200);
  });
});

describe('refresh ahead of expiry, with an injectable clock', () => {
  it('renews before exp and keeps serving the valid token meanwhile', async () => {
    acme = await server({ ttlSec: 600 });
    let now = Date.now();
    const sess = session(acme, { now: () => now });
    const first = await sess.getToken();
    expect(first.expiresAt! - first.issuedAt!).toBe(600_000);
    now += 530_000; // 70 s left of a 10-minute token: outside the 60 s skew
    expect((await sess.getToken()).accessToken).toBe(first.accessToken);
    expect(acme.counters.refreshes).toBe(0);
    now += 20_000; // 50 s left: inside the skew, still valid → served while renewing in the background
    expect((await sess.getToken()).accessToken).toBe(first.accessToken);
    await expect.poll(() => acme.counters.refreshes).toBe(1);
    const next = await sess.getToken();
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(acme.counters.logins).toBe(1);
  });

  it('blocks on the refresh when the token has expired, and rotates the refresh token', async () => {
    acme = await server({ ttlSec: 600 });
    let now = Date.now();
    const sess = session(acme, { now: () => now });
    const first = await sess.getToken();
    now += 601_000;
    const results = await Promise.all(Array.from({ length: 50 }, () => sess.getToken()));
    expect(acme.counters.refreshes).toBe(1);
    expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    expect(results[0]!.refreshToken).not.toBe(first.refreshToken);
    expect(acme.liveRefreshTokens()).toEqual([results[0]!.refreshToken]);
  });

  it('works with opaque tokens: no expiry, renewal only on rejection', async () => {
    acme = await server({ jwt: false });
    let now = Date.now();
    const sess = session(acme, { now: () => now });
    const first = await sess.getToken();
    expect(first.expiresAt).toBeUndefined();
    now += 10 * 24 * 3600_000;
    expect((await sess.getToken()).accessToken).toBe(first.accessToken);
    expect(acme.counters.refreshes).toBe(0);
    const next = await sess.tokenRejected(first.accessToken);
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(acme.counters.refreshes).toBe(1);
  });

  it('treats a JWT without exp like an opaque token', async () => {
    acme = await server({ withExp: false });
    const sess = session(acme);
    const first = await sess.getToken();
    expect(first.expiresAt).toBeUndefined();
    expect((await sess.getToken()).accessToken).toBe(first.accessToken);
    expect(acme.counters.logins).toBe(1);
  });
});

describe('fallback and failures', () => {
  beforeEach(async () => {
    acme = await server();
  });

  it('logs in again when the refresh token is dead', async () => {
    const sess = session(acme);
    const first = await sess.getToken();
    acme.revokeAccess();
    acme.killRefreshTokens();
    const next = await sess.tokenRejected(first.accessToken);
    expect(acme.counters.rejectedRefreshes).toBe(1);
    expect(acme.counters.logins).toBe(2);
    expect((await api(acme, next.accessToken)).status).toBe(200);
  });

  it('rejects wrong credentials once, with a typed error that does not echo the password', async () => {
    const password = 'wrong-Pa55word-echoed';
    const events: unknown[] = [];
    const logs: unknown[] = [];
    const log = (...a: unknown[]) => logs.push(a);
    const sess = session(acme, {
      password,
      on: { failure: (e) => events.push(e) },
      logger: { debug: log, info: log, warn: log, error: log },
    });
    const error = await sess.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('CREDENTIALS_REJECTED');
    expect((error as AuthError).status).toBe(401);
    expect(acme.counters.logins).toBe(1);
    for (const text of [
      (error as Error).message,
      JSON.stringify(error),
      inspect(error, { depth: 5 }),
      inspect(events, { depth: 5 }),
      inspect(logs, { depth: 5 }),
    ]) {
      expect(text).not.toContain(password);
    }
    expect((error as Error).message).toContain('[redacted]');
  });

  it('retries a 5xx with back-off, then succeeds', async () => {
    acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 503 }, times: 2 });
    const sess = session(acme);
    await sess.getToken();
    expect(acme.counters.logins).toBe(1);
  });

  it('gives up after the bounded retries with SERVER_ERROR, and works on the next call', async () => {
    acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 500 }, times: 4 });
    const sess = session(acme, { retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    await expect(sess.getToken()).rejects.toMatchObject({ code: 'SERVER_ERROR', status: 500 });
    await expect(sess.getToken()).resolves.toMatchObject({ accessToken: expect.any(String) });
  });

  it('honours Retry-After on a 429 and then succeeds', async () => {
    acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } });
    const limited: number[] = [];
    const sess = session(acme, { on: { 'rate-limited': (e) => limited.push(e.retryAfterMs) } });
    await sess.getToken();
    expect(limited).toEqual([1000]);
    expect(acme.counters.logins).toBe(1);
  });

  it('rejects with RATE_LIMITED when Retry-After is longer than the caller allows', async () => {
    acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } } });
    const sess = session(acme, { retry: { maxRetryAfterMs: 5_000 } });
    await expect(sess.getToken()).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 3_600_000 });
  });

  it.each([
    ['html', { kind: 'html', status: 200 } as const, /HTML page/],
    ['malformed-json', { kind: 'malformed-json' } as const, /malformed JSON/],
  ])('reports %s from the server as BAD_RESPONSE and keeps the refresh token', async (_name, fault, message) => {
    const sess = session(acme);
    const first = await sess.getToken();
    acme.revokeAccess();
    acme.faults.add({ endpoint: 'refresh', fault });
    const error = (await sess.tokenRejected(first.accessToken).catch((e: unknown) => e)) as AuthError;
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.message).toMatch(message);
    // Nothing lost: the refresh token still works on the next attempt.
    const next = await sess.tokenRejected(first.accessToken);
    expect(acme.counters.logins).toBe(1);
    expect((await api(acme, next.accessToken)).status).toBe(200);
  });

  it('turns a reset connection into NETWORK after the retries', async () => {
    acme.faults.add({ endpoint: 'login', fault: { kind: 'reset' }, times: 10 });
    const sess = session(acme, { retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    await expect(sess.getToken()).rejects.toMatchObject({ code: 'NETWORK', operation: 'login' });
  });

  it('times out a slow auth endpoint with TIMEOUT', async () => {
    acme.faults.add({ endpoint: 'login', fault: { kind: 'delay', ms: 400 }, times: 10 });
    const sess = session(acme, { timeoutMs: 50, retry: { retries: 1, baseDelayMs: 1 } });
    await expect(sess.getToken()).rejects.toMatchObject({ code: 'TIMEOUT', timeoutMs: 50 });
  });

  it('lets one caller abort without cancelling the shared login', async () => {
    acme.faults.add({ endpoint: 'login', fault: { kind: 'delay', ms: 200 } });
    const sess = session(acme);
    const controller = new AbortController();
    const aborted = sess.getToken({ signal: controller.signal });
    const patient = sess.getToken();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(patient).resolves.toMatchObject({ accessToken: expect.any(String) });
    expect(acme.counters.logins).toBe(1);
  });

  it('a network failure to an unreachable server is a typed NETWORK error', async () => {
    const dead = await server();
    await dead.close();
    const sess = session(dead, { retry: { retries: 1, baseDelayMs: 1 } });
    await expect(sess.getToken()).rejects.toMatchObject({ code: 'NETWORK' });
  });
});

describe('rate limits', () => {
  it('paces a burst of 30 forced logins under 5 per 400 ms: never over the limit, nobody refused', async () => {
    acme = await server({ rateLimit: { max: 5, windowMs: 400 } });
    const rateLimit = { max: 5, windowMs: 400 };
    const sessions = Array.from({ length: 30 }, () => session(acme, { rateLimit }));
    const results = await Promise.allSettled(sessions.map((s) => s.login()));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(acme.counters.logins).toBe(30);
    expect(acme.counters.tooMany).toBe(0);
    expect(acme.window.maxInAnyWindow).toBeLessThanOrEqual(5);
  });

  it('without the declared limit the same burst is refused by the server (the test can fail)', async () => {
    acme = await server({ rateLimit: { max: 5, windowMs: 400 } });
    const sessions = Array.from({ length: 30 }, () => session(acme, { retry: { retries: 0 } }));
    const results = await Promise.allSettled(sessions.map((s) => s.login()));
    expect(results.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
    expect(acme.counters.tooMany).toBeGreaterThan(0);
  });
});

describe('token stores, export and import', () => {
  beforeEach(async () => {
    acme = await server();
  });

  it('stores a rotated refresh token before handing out the new access token', async () => {
    const order: string[] = [];
    const inner = memoryTokenStore();
    let latest: string | undefined;
    const store: TokenStore = {
      get: (k) => inner.get(k),
      delete: (k) => inner.delete(k),
      async set(k, v) {
        await new Promise((r) => setTimeout(r, 20));
        order.push(`stored ${v.tokens.refreshToken}`);
        latest = v.tokens.refreshToken;
        return inner.set(k, v);
      },
    };
    const sess = session(acme, { store });
    const first = await sess.getToken();
    order.push(`got ${first.refreshToken}`);
    acme.revokeAccess();
    const next = await sess.tokenRejected(first.accessToken);
    order.push(`got ${next.refreshToken}`);
    expect(order).toEqual([
      `stored ${first.refreshToken}`,
      `got ${first.refreshToken}`,
      `stored ${next.refreshToken}`,
      `got ${next.refreshToken}`,
    ]);
    expect(latest).toBe(next.refreshToken);
  });

  it('resumes from exported tokens without logging in', async () => {
    const a = session(acme);
    await a.getToken();
    const exported = await a.exportTokens();
    const b = session(acme, { initialTokens: exported });
    const t = await b.getToken();
    expect(t.accessToken).toBe(exported!.accessToken);
    const c = session(acme);
    await c.importTokens(JSON.parse(JSON.stringify(exported)));
    expect((await c.getToken()).accessToken).toBe(exported!.accessToken);
    expect(acme.counters.logins).toBe(1);
  });

  it('two sessions sharing a store share the tokens', async () => {
    const store = memoryTokenStore();
    const a = session(acme, { store });
    const t = await a.getToken();
    const b = session(acme, { store });
    expect((await b.getToken()).accessToken).toBe(t.accessToken);
    expect(acme.counters.logins).toBe(1);
  });

  it('logout forgets the tokens locally and in the store', async () => {
    const store = memoryTokenStore();
    const sess = session(acme, { store });
    await sess.getToken();
    await sess.logout();
    expect(await store.get('acme')).toBeUndefined();
    expect(await sess.exportTokens()).toBeUndefined();
    await sess.getToken();
    expect(acme.counters.logins).toBe(2);
  });
});

describe('events', () => {
  it('emits login, refresh and token changes without any token in the payloads', async () => {
    acme = await server();
    const seen: { name: string; payload: unknown }[] = [];
    const sess = session(acme);
    for (const name of ['login', 'refresh', 'tokens', 'rejected'] as const)
      sess.on(name, (payload) => seen.push({ name, payload }));
    const first = await sess.getToken();
    acme.revokeAccess();
    const next = await sess.tokenRejected(first.accessToken);
    expect(seen.map((s) => s.name)).toEqual(['tokens', 'login', 'rejected', 'tokens', 'refresh']);
    const text = JSON.stringify(seen);
    for (const secret of [first.accessToken, first.refreshToken!, next.accessToken, next.refreshToken!, acme.password])
      expect(text).not.toContain(secret);
  });
});

describe('sessions sharing a memory store', () => {
  it('renew once between them: no rejected refresh, no extra login', async () => {
    acme = await server({ authDelayMs: 20 });
    const store = memoryTokenStore();
    const a = session(acme, { store });
    const b = session(acme, { store });
    const first = await a.getToken();
    expect((await b.getToken()).accessToken).toBe(first.accessToken);
    acme.revokeAccess();
    const [ra, rb] = await Promise.all([a.tokenRejected(first.accessToken), b.tokenRejected(first.accessToken)]);
    expect(ra.accessToken).toBe(rb.accessToken);
    expect(acme.counters.refreshes).toBe(1);
    expect(acme.counters.rejectedRefreshes).toBe(0);
    expect(acme.counters.logins).toBe(1);
  });
});

describe('503 with Retry-After', () => {
  it('is waited out like a 429 (the whole budget pauses), then the login succeeds', async () => {
    acme = await server();
    acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 503, headers: { 'retry-after': '1' } } });
    const paused: number[] = [];
    const sess = session(acme, {
      rateLimit: { max: 5, windowMs: 1000 },
      on: { 'rate-limited': (e) => paused.push(e.retryAfterMs) },
    });
    await sess.getToken();
    expect(paused).toEqual([1000]);
    expect(acme.counters.logins).toBe(1);
  });

  it('rejects with SERVER_ERROR carrying retryAfterMs when the pause is longer than allowed', async () => {
    acme = await server();
    acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 503, headers: { 'retry-after': '600' } } });
    const sess = session(acme, { retry: { maxRetryAfterMs: 1000 } });
    await expect(sess.getToken()).rejects.toMatchObject({ code: 'SERVER_ERROR', status: 503, retryAfterMs: 600_000 });
    expect(acme.counters.logins).toBe(0);
  });
});
