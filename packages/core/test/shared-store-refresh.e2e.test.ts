import { afterEach, expect, it } from 'vitest';
import { createAuthSession, memoryTokenStore } from '@auth/core';
import { startAcme, type Acme } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';

let acme: Acme | undefined;
afterEach(async () => {
  await acme?.close();
});

// Two sessions of one process sharing a store without `coordinate` (the memory store, a file, a
// plain key-value store): after one of them rotated the refresh token, the other must pick the new
// tokens up from the store instead of spending the dead refresh token (a 401, then a needless login).
it('a session renewing after another session of the same store rotated the tokens uses the stored ones', async () => {
  acme = await startAcme();
  const store = memoryTokenStore();
  const make = () =>
    createAuthSession(acmeStrategy({ baseUrl: acme!.url, username: 'alice', password: acme!.password }), {
      store,
      retry: { baseDelayMs: 5 },
    });
  const a = make();
  const b = make();
  const first = await a.getToken();
  expect((await b.getToken()).accessToken).toBe(first.accessToken);
  const rotated = await a.refresh();
  const seenByB = await b.tokenRejected(first.accessToken);
  expect(seenByB.accessToken).toBe(rotated.accessToken);
  expect(acme.counters).toMatchObject({ logins: 1, refreshes: 1, rejectedRefreshes: 0 });
  // B goes on renewing from the newest refresh token.
  const next = await b.refresh();
  expect(next.refreshToken).not.toBe(rotated.refreshToken);
  expect(acme.counters).toMatchObject({ logins: 1, refreshes: 2, rejectedRefreshes: 0 });
});
