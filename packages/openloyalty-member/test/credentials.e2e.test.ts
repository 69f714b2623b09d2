// Credentials on demand: restore and refresh without a password; the app is asked only when a login
// cannot be avoided, and a form closed without answer is CREDENTIALS_REQUIRED (no call sent).
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createAuthSession, type Credentials } from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import { openLoyaltyMember } from '@auth/openloyalty-member';

const MEMBER = { username: 'member@example.com', password: 'only-in-the-login-form' };
let server: OpenLoyaltyServer;
beforeAll(async () => {
  server = await createOpenLoyaltyServer({ stores: { default: [MEMBER] }, rateLimit: false });
});
afterAll(() => server.close());
beforeEach(() => server.resetCounters());

function asker(answer: () => Credentials | undefined) {
  const asked = { n: 0 };
  const credentials = () => {
    asked.n += 1;
    const given = answer();
    if (!given) throw new Error('form closed');
    return given;
  };
  return { asked, strategy: openLoyaltyMember({ baseUrl: server.url, storeCode: 'default', credentials }) };
}

it('asks at the first login only; a restored session refreshes without asking; a dead refresh token asks again', async () => {
  const first = asker(() => MEMBER);
  const session = createAuthSession(first.strategy);
  const tokens = await session.getToken();
  expect(first.asked.n).toBe(1);
  await session.refresh();
  expect(first.asked.n).toBe(1);

  const restored = asker(() => MEMBER);
  const again = createAuthSession(restored.strategy, { initialTokens: (await session.exportTokens())! });
  server.revokeAccessTokens();
  const renewed = await again.tokenRejected((await again.getToken()).accessToken);
  expect(renewed.accessToken).not.toBe(tokens.accessToken);
  expect(restored.asked.n).toBe(0);
  expect(server.counters).toMatchObject({ logins: 1, refreshes: 2 });

  server.expireRefreshTokens();
  await again.refresh();
  expect(restored.asked.n).toBe(1);
  expect(server.counters).toMatchObject({ logins: 2, refreshesRejected: 1 });
});

it('a closed form is CREDENTIALS_REQUIRED, not retried, nothing sent; the next login asks again', async () => {
  const form: { answer?: Credentials } = {};
  const { asked, strategy } = asker(() => form.answer);
  const session = createAuthSession(strategy);
  const error = await session.getToken().catch((e: unknown) => e);
  expect(error).toMatchObject({
    code: 'CREDENTIALS_REQUIRED',
    operation: 'login',
    strategy: 'openloyalty-member',
    transient: false,
  });
  expect(asked.n).toBe(1);
  expect(server.counters.authCalls).toBe(0);
  form.answer = MEMBER;
  await session.getToken();
  expect(asked.n).toBe(2);
  expect(server.counters.logins).toBe(1);
});

it('a wrong password from the form is CREDENTIALS_REJECTED and never appears in the error', async () => {
  const { strategy } = asker(() => ({ username: MEMBER.username, password: 'typo-in-the-form' }));
  const error = await createAuthSession(strategy)
    .getToken()
    .catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'CREDENTIALS_REJECTED' });
  expect(JSON.stringify(error) + String(error)).not.toContain('typo-in-the-form');
});

it('takes a password or a credentials callback, not both, not neither', () => {
  const base = { baseUrl: 'https://ol.test', storeCode: 'default' };
  expect(() =>
    openLoyaltyMember({ ...base, username: 'a', password: 'b', credentials: () => MEMBER } as never),
  ).toThrowError(expect.objectContaining({ code: 'CONFIGURATION' }) as Error);
  expect(() => openLoyaltyMember({ ...base, username: 'a' } as never)).toThrowError(
    expect.objectContaining({ code: 'CONFIGURATION' }) as Error,
  );
  // Without a username the store key is per store and base URL (the app knows who logs in only at the form).
  expect(openLoyaltyMember({ ...base, credentials: () => MEMBER }).storeKey).toBe(
    'openloyalty-member:https://ol.test:default',
  );
});
