// Issue 11, item 9: errors from another copy of @auth/core (here its CommonJS build, loaded next to
// the ESM sources the session runs on) are recognised by their brand, not their prototype: a
// strategy built against the other copy that rejects a refresh token still gets the fallback login,
// and every other code survives the trip through the session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as esm from '@auth/core';
import { createAuthSession, isAuthError, memoryTokenStore, type Strategy, type StrategyContext } from '@auth/core';
import { startAcme, type Acme } from './acme-server.js';
import { loadCjsCore } from './dual-copy.js';
import { failure } from './leaks.js';

type Core = typeof esm;
let cjs: Core;
let acme: Acme;
beforeAll(async () => {
  cjs = loadCjsCore();
  acme = await startAcme();
}, 300_000);
afterAll(() => acme?.close());

/**
 * The acme strategy as a package built against the other copy would write it: that copy's `createAuthHttp`, hence its
 * errors.
 */
function foreignAcme(password: string): Strategy {
  const url = (path: string) => `${acme.url}${path}`;
  const http = (ctx: StrategyContext) =>
    cjs.createAuthHttp({
      fetch: (i, init) => fetch(i, init),
      timeoutMs: 5_000,
      strategy: 'foreign-acme',
      now: ctx.now,
      signal: ctx.signal,
    });
  const toTokens = (body: { token?: unknown; refresh_token?: unknown }) => ({
    accessToken: String(body.token),
    refreshToken: String(body.refresh_token),
  });
  return {
    name: 'foreign-acme',
    origins: [acme.url],
    async login(ctx) {
      const { body } = await http(ctx)<{ token?: unknown }>({
        operation: 'login',
        url: url('/auth/login'),
        json: { username: 'alice', password },
      });
      return toTokens(body);
    },
    async refresh(tokens, ctx) {
      const { body } = await http(ctx)<{ token?: unknown }>({
        operation: 'refresh',
        url: url('/auth/refresh'),
        json: { refresh_token: tokens.refreshToken },
      });
      return toTokens(body);
    },
  };
}

describe('two copies of @auth/core in one process (issue 11, item 9)', () => {
  it('really are two copies, and isAuthError recognises every error class of the other one', () => {
    expect(cjs.AuthError).not.toBe(esm.AuthError);
    const classes = [
      'CredentialsRejectedError',
      'RefreshRejectedError',
      'RateLimitedError',
      'NetworkError',
      'TimeoutError',
      'ServerError',
      'BadResponseError',
      'AbortedError',
      'TokenRejectedError',
      'TokenStoreError',
    ] as const;
    for (const name of classes) {
      const foreign = new cjs[name]();
      expect(foreign).not.toBeInstanceOf(esm.AuthError);
      expect(isAuthError(foreign)).toBe(true);
      expect(cjs.isAuthError(new esm[name]())).toBe(true);
    }
    expect(isAuthError(new cjs.ConfigurationError('x'))).toBe(true);
    // Lookalikes are not errors of ours.
    expect(isAuthError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isAuthError({ code: 'NETWORK', transient: true, operation: 'login' })).toBe(false);
  });

  it('a REFRESH_REJECTED from the other copy makes the session log in again against the real server', async () => {
    const session = createAuthSession(foreignAcme(acme.password), { retry: { retries: 0 } });
    try {
      const first = await session.getToken();
      expect(acme.counters.logins).toBe(1);
      acme.killRefreshTokens();
      acme.revokeAccess();
      const next = await session.tokenRejected(first.accessToken);
      expect(acme.counters).toMatchObject({ logins: 2, refreshes: 1, rejectedRefreshes: 1 });
      expect(next.accessToken).not.toBe(first.accessToken);
      expect((await fetch(`${acme.url}/api/me`, { headers: session.authorize(next) })).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it('keeps the other copy’s codes: credentials, a transient 5xx (retried), a 429 with its Retry-After', async () => {
    const wrong = createAuthSession(foreignAcme('not-the-password'), { retry: { retries: 0 } });
    const rejected = await failure(wrong.getToken());
    expect(rejected.code).toBe('CREDENTIALS_REJECTED');
    expect(rejected.status).toBe(401);
    wrong.close();

    const logins = acme.counters.logins;
    acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 503, body: { message: 'down' } }, times: 1 });
    const retried = createAuthSession(foreignAcme(acme.password), {
      retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 },
    });
    // Transient: retried once, then the login succeeds (a BAD_RESPONSE would not be retried).
    await retried.getToken();
    expect(acme.counters.logins).toBe(logins + 1);
    retried.close();

    acme.faults.add({
      endpoint: 'login',
      fault: { kind: 'status', status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '7' } },
      times: 1,
    });
    const limited = createAuthSession(foreignAcme(acme.password), { retry: { retries: 0 } });
    const error = await failure(limited.getToken());
    expect(error.code).toBe('RATE_LIMITED');
    expect((error as esm.RateLimitedError).retryAfterMs).toBe(7_000);
    limited.close();
  });

  it('a token store that throws the other copy’s typed error keeps its code', async () => {
    const inner = memoryTokenStore();
    const store = { ...inner, get: () => Promise.reject(new cjs.NetworkError('the token store is unreachable')) };
    const session = createAuthSession(foreignAcme(acme.password), { store, retry: { retries: 0 } });
    const error = await failure(session.getToken());
    expect(error.code).toBe('NETWORK');
    expect(error.message).toBe('the token store is unreachable');
    session.close();
  });
});
