// Edge cases of a session's life: logout or close while a renewal is in flight, a rejection
// reported while a renewal that then fails is in flight, a Retry-After longer than the caller allows.
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  createAuthSession,
  memoryTokenStore,
  type Strategy,
  type TokenSet,
  type TokenStore,
} from '@auth/core';
import { startAcme, type Acme } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';

let acme: Acme | undefined;
afterEach(async () => {
  await acme?.close();
  acme = undefined;
});

it('logout during a renewal: the renewal does not bring the tokens back, and its tokens are revoked', async () => {
  acme = await startAcme();
  const revoked: string[] = [];
  const base = acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password });
  const strategy: Strategy = { ...base, revoke: async (tokens: TokenSet) => void revoked.push(tokens.accessToken) };
  const store = memoryTokenStore();
  const sess = createAuthSession(strategy, { store });
  await sess.getToken();
  acme.faults.add({ endpoint: 'refresh', fault: { kind: 'delay', ms: 150 } });
  const renewal = sess.refresh();
  await new Promise((r) => setTimeout(r, 30)); // the refresh is on the wire
  await sess.logout();
  const renewed = await renewal;
  expect(await sess.exportTokens()).toBeUndefined();
  expect(await store.get('acme')).toBeUndefined();
  // Whatever the renewal obtained was revoked, not left alive on the server.
  expect(revoked).toContain(renewed.accessToken);
});
it('a token reported rejected while a renewal is in flight is not served again when that renewal fails', async () => {
  acme = await startAcme();
  const sess = createAuthSession(acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password }), {
    retry: { retries: 0 },
  });
  const first = await sess.getToken();
  acme.revokeAccess();
  acme.faults.add({ endpoint: 'refresh', fault: { kind: 'status', status: 503 } });
  const renewal = sess.refresh().catch((e: unknown) => e);
  const report = sess.tokenRejected(first.accessToken).catch((e: unknown) => e);
  expect(await renewal).toMatchObject({ code: 'SERVER_ERROR' });
  expect(await report).toMatchObject({ code: 'SERVER_ERROR' });
  const next = await sess.getToken();
  expect(next.accessToken).not.toBe(first.accessToken);
  // The 503 is answered by the fault plan before the server counts a refresh: one real refresh.
  expect(acme.counters).toMatchObject({ refreshes: 1, logins: 1 });
});
it('close() settles a caller queued behind the rate limit at once instead of a window later', async () => {
  acme = await startAcme();
  const rateLimit = { max: 1, windowMs: 60_000 };
  const sess = createAuthSession(
    acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password, rateLimit }),
    { rateLimit: { key: `close-test:${acme.url}`, ...rateLimit } },
  );
  await sess.login();
  const queued = sess.login().catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 20));
  sess.close();
  // Without the fix this waits for the permit (60 s) and the test times out.
  expect(await queued).toMatchObject({ code: 'ABORTED' });
  expect(acme.counters.logins).toBe(1);
}, 5_000);
it('after a 429 whose Retry-After exceeds maxRetryAfterMs, later calls reject with RATE_LIMITED at once instead of waiting it out in the limiter', async () => {
  acme = await startAcme();
  const rateLimit = { max: 10, windowMs: 1_000 };
  const sess = createAuthSession(
    acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password, rateLimit }),
    {
      rateLimit: { key: `long-429:${acme.url}`, ...rateLimit },
      retry: { maxRetryAfterMs: 2_000 },
    },
  );
  acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } } });
  await expect(sess.getToken()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  // The server asked for an hour: the next caller must not sit in the limiter for it.
  const second = await sess.getToken().catch((e: unknown) => e);
  expect(second).toMatchObject({ code: 'RATE_LIMITED' });
  expect((second as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(3_000_000);
  expect(acme.counters.logins).toBe(0);
}, 5_000);

it('a strategy whose refresh returns nothing gets a typed BAD_RESPONSE, not a TypeError', async () => {
  let logins = 0;
  const strategy: Strategy = {
    name: 'sloppy',
    origins: ['https://api.sloppy.test'],
    login: async () => ({ accessToken: `opaque-${++logins}`, refreshToken: 'refresh-token-1' }),
    refresh: async () => undefined as unknown as TokenSet,
  };
  const sess = createAuthSession(strategy);
  const first = await sess.getToken();
  await expect(sess.tokenRejected(first.accessToken)).rejects.toMatchObject({
    code: 'BAD_RESPONSE',
    operation: 'refresh',
  });
});

it('a refresh that returns no refresh token keeps the old one for the next refresh (APIs that do not rotate)', async () => {
  const used: (string | undefined)[] = [];
  let serial = 0;
  const strategy: Strategy = {
    name: 'no-rotation',
    origins: ['https://api.no-rotation.test'],
    login: async () => ({ accessToken: `opaque-${++serial}`, refreshToken: 'long-lived-refresh' }),
    refresh: async (tokens) => {
      used.push(tokens.refreshToken);
      return { accessToken: `opaque-${++serial}` };
    },
  };
  const sess = createAuthSession(strategy);
  const first = await sess.getToken();
  const second = await sess.tokenRejected(first.accessToken);
  const third = await sess.tokenRejected(second.accessToken);
  expect(used).toEqual(['long-lived-refresh', 'long-lived-refresh']);
  expect(third).toMatchObject({ accessToken: 'opaque-3', refreshToken: 'long-lived-refresh' });
  expect(serial).toBe(3);
});

it('a 429 without Retry-After pauses for the declared rate-limit window, then succeeds; an HTTP-date Retry-After is honoured too', async () => {
  acme = await startAcme();
  const rateLimit = { max: 10, windowMs: 300 };
  const limited: number[] = [];
  const sess = createAuthSession(
    acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password, rateLimit }),
    {
      rateLimit: { key: `no-retry-after:${acme.url}`, ...rateLimit },
      on: { 'rate-limited': (e) => limited.push(e.retryAfterMs) },
    },
  );
  acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 429 } });
  await sess.getToken();
  expect(limited).toEqual([300]);
  acme.faults.add({
    endpoint: 'refresh',
    fault: { kind: 'status', status: 429, headers: { 'retry-after': new Date(Date.now() + 2_000).toUTCString() } },
  });
  const renewed = await sess.refresh();
  expect(renewed.accessToken).toEqual(expect.any(String));
  expect(limited).toHaveLength(2);
  expect(limited[1]).toBeGreaterThan(0);
  expect(limited[1]).toBeLessThanOrEqual(2_000);
  expect(acme.counters).toMatchObject({ logins: 1, refreshes: 1 });
});

describe('a failing third-party token store', () => {
  it('reaches callers as a typed STORE error, and the session works once the store does', async () => {
    const s = await startAcme();
    try {
      let broken = true;
      const inner = memoryTokenStore();
      const store: TokenStore = {
        get: (k) => (broken ? Promise.reject(new Error('ECONNRESET while reading token abc-secret')) : inner.get(k)),
        set: (k, v) => inner.set(k, v),
        delete: (k) => inner.delete(k),
      };
      const session = createAuthSession(acmeStrategy({ baseUrl: s.url, username: 'alice', password: s.password }), {
        store,
      });
      const error = (await session.getToken().catch((e: unknown) => e)) as AuthError;
      expect(error).toBeInstanceOf(AuthError);
      expect(error.code).toBe('STORE');
      expect(error.message).not.toContain('abc-secret');
      broken = false;
      await expect(session.getToken()).resolves.toMatchObject({ accessToken: expect.any(String) });
    } finally {
      await s.close();
    }
  });
});
