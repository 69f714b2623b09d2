// Credentials on demand for datarhei Core: restore and (non-rotating) refresh without a password.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAuthSession } from '@auth/core';
import { createDatarheiServer, type DatarheiServer } from '@auth/testing';
import { datarheiPassword } from '@auth/datarhei-password';

let core: DatarheiServer;
beforeAll(async () => {
  core = await createDatarheiServer({ username: 'admin', password: 'core-secret', failedLoginDelayMs: 5 });
});
afterAll(() => core.close());

it('restores and refreshes without asking; asks once the refresh token is dead; a closed form sends nothing', async () => {
  let asked = 0;
  let open = true;
  const strategy = datarheiPassword({
    baseUrl: core.url,
    credentials: () => {
      asked += 1;
      if (!open) throw new Error('closed');
      return { username: 'admin', password: 'core-secret' };
    },
  });
  expect(strategy.storeKey).toBe(`datarhei-password@${core.url}`);
  const issued = await core.issueTokens();
  const session = createAuthSession(strategy, {
    initialTokens: { accessToken: issued.access_token, refreshToken: issued.refresh_token },
  });
  core.revokeAccessTokens();
  await session.tokenRejected((await session.getToken()).accessToken);
  expect(asked).toBe(0);
  expect(core.counters).toMatchObject({ refreshes: 1, loginAttempts: 0 });

  core.expireRefreshTokens();
  open = false;
  await expect(session.refresh()).rejects.toMatchObject({ code: 'CREDENTIALS_REQUIRED' });
  expect(core.counters.loginAttempts).toBe(0);
  open = true;
  await session.refresh();
  expect(asked).toBe(2);
  expect(core.counters).toMatchObject({ loginAttempts: 1, logins: 1 });
});
