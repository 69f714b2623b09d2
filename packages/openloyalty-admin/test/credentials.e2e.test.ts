// Credentials on demand for the admin strategy: asked only for logins, never for refreshes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAuthSession } from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import { openLoyaltyAdmin } from '@auth/openloyalty-admin';

let server: OpenLoyaltyServer;
beforeAll(async () => {
  server = await createOpenLoyaltyServer({ rateLimit: false });
});
afterAll(() => server.close());

it('asks for credentials at a login only; a closed form is CREDENTIALS_REQUIRED with nothing sent', async () => {
  let asked = 0;
  let open = true;
  const session = createAuthSession(
    openLoyaltyAdmin({
      baseUrl: server.url,
      username: 'admin',
      credentials: () => {
        asked += 1;
        if (!open) throw new Error('closed');
        return { username: 'admin', password: 'password' };
      },
    }),
  );
  await session.getToken();
  await session.refresh();
  await session.refresh();
  expect(asked).toBe(1);
  expect(server.counters).toMatchObject({ logins: 1, refreshes: 2 });
  server.expireRefreshTokens();
  open = false;
  const calls = server.counters.authCalls;
  await expect(session.refresh()).rejects.toMatchObject({ code: 'CREDENTIALS_REQUIRED' });
  expect(asked).toBe(2);
  // Only the refused refresh reached the server: no login without credentials.
  expect(server.counters.authCalls - calls).toBe(1);
  expect(session.strategy.storeKey).toBe(`openloyalty-admin:${server.url}:admin`);
});
