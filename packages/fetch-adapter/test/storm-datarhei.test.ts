import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthFetch, type AuthFetch } from '../src/index.js';
import type { DatarheiServer } from '@auth/testing';
import { datarheiSession, startDatarhei } from '../../axios-adapter/test/fixtures/servers.js';

const N = 1_000;

describe('fetch refresh storms against the datarhei Core reference server (non-rotating refresh)', () => {
  let core: DatarheiServer;
  let clock: { offsetMs: number };
  beforeEach(async () => {
    ({ core, clock } = await startDatarhei());
  });
  afterEach(async () => {
    await core.close();
  });

  async function storm(authFetch: AuthFetch): Promise<number> {
    const results = await Promise.all(
      Array.from({ length: N }, async () => {
        const res = await authFetch(`${core.url}/api/v3/process`);
        return res.status === 200 && Array.isArray(await res.json());
      }),
    );
    return results.filter(Boolean).length;
  }

  it('(a) access token past its exp: exactly one refresh, all succeed', async () => {
    expect(await storm(createAuthFetch(await datarheiSession(core, clock, { expired: true })))).toBe(N);
    expect(core.counters).toMatchObject({ refreshes: 1, failedRefreshes: 0, loginAttempts: 0, rejectedCalls: 0 });
  });

  it('(b) tokens revoked on the server while exp is in the future: exactly one refresh, all succeed', async () => {
    const authFetch = createAuthFetch(await datarheiSession(core, clock));
    core.revokeAccessTokens();
    expect(await storm(authFetch)).toBe(N);
    expect(core.counters.rejectedCalls).toBeGreaterThan(0);
    expect(core.counters).toMatchObject({ refreshes: 1, failedRefreshes: 0, loginAttempts: 0 });
  });

  it('(c) dead refresh token: one refresh attempt, one login, all succeed', async () => {
    const authFetch = createAuthFetch(await datarheiSession(core, clock));
    core.revokeAccessTokens();
    core.expireRefreshTokens();
    expect(await storm(authFetch)).toBe(N);
    expect(core.counters).toMatchObject({ refreshes: 0, failedRefreshes: 1, logins: 1, loginAttempts: 1 });
  });
});
