import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthFetch, type AuthFetch } from '../src/index.js';
import type { OpenLoyaltyEcho, OpenLoyaltyServer } from '@auth/testing';
import { adminSession, startOpenLoyalty, waitFor } from '../../axios-adapter/test/fixtures/servers.js';

const N = 1_000;

describe('fetch refresh storms against the OpenLoyalty reference server (real global fetch)', () => {
  let server: OpenLoyaltyServer;
  beforeEach(async () => {
    server = await startOpenLoyalty();
  });
  afterEach(async () => {
    await server.close();
  });

  async function storm(count: number, authFetch: AuthFetch): Promise<number> {
    const results = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const res = await authFetch(`${server.url}/api/echo?i=${i}`);
        const echo = (await res.json()) as OpenLoyaltyEcho;
        return res.status === 200 && echo.user.username === 'admin' && echo.query.i === String(i);
      }),
    );
    return results.filter(Boolean).length;
  }

  it('(a) access token past its exp: 1,000 requests, exactly one refresh, all succeed', async () => {
    const authFetch = createAuthFetch(await adminSession(server, { accessTokenTtlSec: -10 }));
    expect(await storm(N, authFetch)).toBe(N);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.authCalls).toBe(1);
    expect(server.counters.logins).toBe(0);
    expect(server.counters.apiRejected).toBe(0);
    // Exactly N calls got through (one per request: none lost, none sent again after a success); the rest were rejections.
    expect(server.counters.apiCalls).toBe(N + server.counters.apiRejected);
  });

  it('(b) token revoked on the server while exp is in the future: exactly one refresh, all succeed', async () => {
    const authFetch = createAuthFetch(await adminSession(server));
    expect(await storm(10, authFetch)).toBe(10);
    expect(server.revokeAccessTokens()).toBeGreaterThan(0);
    server.resetCounters();
    expect(await storm(N, authFetch)).toBe(N);
    expect(server.counters.apiRejected).toBeGreaterThan(0);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.authCalls).toBe(1);
    expect(server.counters.logins).toBe(0);
    // Exactly N calls got through (one per request: none lost, none sent again after a success); the rest were rejections.
    expect(server.counters.apiCalls).toBe(N + server.counters.apiRejected);
  });

  it('(c) dead refresh token: one refresh attempt, one login, all succeed', async () => {
    const authFetch = createAuthFetch(await adminSession(server));
    server.revokeAccessTokens();
    server.expireRefreshTokens();
    expect(await storm(N, authFetch)).toBe(N);
    expect(server.counters.refreshesRejected).toBe(1);
    expect(server.counters.refreshes).toBe(0);
    expect(server.counters.logins).toBe(1);
    expect(server.counters.authCalls).toBe(2);
    // Exactly N calls got through (one per request: none lost, none sent again after a success); the rest were rejections.
    expect(server.counters.apiCalls).toBe(N + server.counters.apiRejected);
  });

  it('requests arriving while the refresh is in flight join it', async () => {
    const authFetch = createAuthFetch(await adminSession(server));
    server.revokeAccessTokens();
    server.faults.add({ endpoint: 'refresh', fault: { kind: 'delay', ms: 400 } });
    const first = storm(N / 2, authFetch);
    await waitFor(() => server.counters.authCalls === 1, 'the refresh to reach the server');
    expect(server.counters.refreshes).toBe(0);
    const second = storm(N / 2, authFetch);
    expect((await first) + (await second)).toBe(N);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.authCalls).toBe(1);
  });

  it('a refresh answered 429 is retried after Retry-After, then every request succeeds', async () => {
    const authFetch = createAuthFetch(await adminSession(server));
    server.revokeAccessTokens();
    server.faults.add({ endpoint: 'refresh', fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: { code: 429, message: 'Too Many Requests' } } });
    expect(await storm(N, authFetch)).toBe(N);
    expect(server.counters.authCalls).toBe(2);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.logins).toBe(0);
  });
});
