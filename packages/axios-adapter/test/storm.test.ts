import axios from 'axios';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachAuth } from '../src/index.js';
import type { OpenLoyaltyEcho, OpenLoyaltyServer } from '@auth/testing';
import { adminSession, startOpenLoyalty, waitFor } from './fixtures/servers.js';

const N = 1_000;

describe('axios refresh storms against the OpenLoyalty reference server', () => {
  let server: OpenLoyaltyServer;
  beforeEach(async () => {
    server = await startOpenLoyalty();
  });
  afterEach(async () => {
    await server.close();
  });

  async function storm(count: number, api: ReturnType<typeof axios.create>): Promise<number> {
    const results = await Promise.all(Array.from({ length: count }, (_, i) => api.get<OpenLoyaltyEcho>('/api/echo', { params: { i } })));
    return results.filter((r) => r.status === 200 && r.data.user.username === 'admin').length;
  }

  it('(a) access token past its exp: 1,000 requests, exactly one refresh, all succeed', async () => {
    const session = await adminSession(server, { accessTokenTtlSec: -10 });
    const api = axios.create({ baseURL: server.url });
    attachAuth(api, session);
    expect(await storm(N, api)).toBe(N);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.authCalls).toBe(1);
    expect(server.counters.logins).toBe(0);
    expect(server.counters.apiRejected).toBe(0);
    // Exactly N calls got through (one per request: none lost, none sent again after a success); the rest were rejections.
    expect(server.counters.apiCalls).toBe(N + server.counters.apiRejected);
  });

  it('(b) token revoked on the server while exp is in the future: exactly one refresh, all succeed', async () => {
    const session = await adminSession(server);
    const api = axios.create({ baseURL: server.url });
    attachAuth(api, session);
    expect(await storm(10, api)).toBe(10);
    expect(server.revokeAccessTokens()).toBeGreaterThan(0);
    server.resetCounters();
    expect(await storm(N, api)).toBe(N);
    expect(server.counters.apiRejected).toBeGreaterThan(0);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.authCalls).toBe(1);
    expect(server.counters.logins).toBe(0);
    // Exactly N calls got through (one per request: none lost, none sent again after a success); the rest were rejections.
    expect(server.counters.apiCalls).toBe(N + server.counters.apiRejected);
  });

  it('(c) dead refresh token: one refresh attempt, one login, all succeed', async () => {
    const session = await adminSession(server);
    const api = axios.create({ baseURL: server.url });
    attachAuth(api, session);
    server.revokeAccessTokens();
    server.expireRefreshTokens();
    expect(await storm(N, api)).toBe(N);
    expect(server.counters.refreshesRejected).toBe(1);
    expect(server.counters.refreshes).toBe(0);
    expect(server.counters.logins).toBe(1);
    expect(server.counters.authCalls).toBe(2);
    // Exactly N calls got through (one per request: none lost, none sent again after a success); the rest were rejections.
    expect(server.counters.apiCalls).toBe(N + server.counters.apiRejected);
  });

  it('requests arriving while the refresh is in flight join it', async () => {
    const session = await adminSession(server);
    const api = axios.create({ baseURL: server.url });
    attachAuth(api, session);
    server.revokeAccessTokens();
    server.faults.add({ endpoint: 'refresh', fault: { kind: 'delay', ms: 400 } });
    const first = storm(N / 2, api);
    await waitFor(() => server.counters.authCalls === 1, 'the refresh to reach the server');
    expect(server.counters.refreshes).toBe(0);
    const second = storm(N / 2, api);
    expect((await first) + (await second)).toBe(N);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.authCalls).toBe(1);
  });

  it('a refresh answered 429 is retried after Retry-After, then every request succeeds', async () => {
    const session = await adminSession(server);
    const api = axios.create({ baseURL: server.url });
    attachAuth(api, session);
    server.revokeAccessTokens();
    server.faults.add({ endpoint: 'refresh', fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' }, body: { code: 429, message: 'Too Many Requests' } } });
    expect(await storm(N, api)).toBe(N);
    expect(server.counters.authCalls).toBe(2);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.logins).toBe(0);
  });
});
