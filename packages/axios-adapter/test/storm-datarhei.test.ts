import axios from 'axios';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachAuth } from '../src/index.js';
import type { DatarheiServer } from '@auth/testing';
import { datarheiSession, startDatarhei } from './fixtures/servers.js';

const N = 1_000;

describe('axios refresh storms against the datarhei Core reference server (non-rotating refresh)', () => {
  let core: DatarheiServer;
  let clock: { offsetMs: number };
  beforeEach(async () => {
    ({ core, clock } = await startDatarhei());
  });
  afterEach(async () => {
    await core.close();
  });

  async function storm(api: ReturnType<typeof axios.create>): Promise<number> {
    const results = await Promise.all(Array.from({ length: N }, () => api.get<unknown[]>('/api/v3/process')));
    return results.filter((r) => r.status === 200 && Array.isArray(r.data)).length;
  }

  it('(a) access token past its exp: exactly one refresh, all succeed', async () => {
    const api = axios.create({ baseURL: core.url });
    attachAuth(api, await datarheiSession(core, clock, { expired: true }));
    expect(await storm(api)).toBe(N);
    expect(core.counters).toMatchObject({ refreshes: 1, failedRefreshes: 0, loginAttempts: 0, rejectedCalls: 0 });
  });

  it('(b) tokens revoked on the server while exp is in the future: exactly one refresh, all succeed', async () => {
    const api = axios.create({ baseURL: core.url });
    attachAuth(api, await datarheiSession(core, clock));
    core.revokeAccessTokens();
    expect(await storm(api)).toBe(N);
    expect(core.counters.rejectedCalls).toBeGreaterThan(0);
    expect(core.counters).toMatchObject({ refreshes: 1, failedRefreshes: 0, loginAttempts: 0 });
  });

  it('(c) dead refresh token: one refresh attempt, one login, all succeed', async () => {
    const api = axios.create({ baseURL: core.url });
    attachAuth(api, await datarheiSession(core, clock));
    core.revokeAccessTokens();
    core.expireRefreshTokens();
    expect(await storm(api)).toBe(N);
    expect(core.counters).toMatchObject({ refreshes: 0, failedRefreshes: 1, logins: 1, loginAttempts: 1 });
  });
});
