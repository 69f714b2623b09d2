import { expect, it } from 'vitest';
import { createAuthSession, type Strategy } from '@auth/core';

const base: Strategy = {
  name: 'defaults',
  origins: ['https://api.defaults.test'],
  login: async () => ({ accessToken: 'opaque-token' }),
};

it('presents the token as Authorization: Bearer and treats 401, not 403, as a rejected token by default', () => {
  const session = createAuthSession(base);
  expect(session.authorize({ accessToken: 'abc' })).toEqual({ authorization: 'Bearer abc' });
  expect(session.isTokenRejected({ status: 401 })).toBe(true);
  expect(session.isTokenRejected({ status: 403 })).toBe(false);
  expect(session.isTokenRejected({ status: 500 })).toBe(false);
});

it("uses the strategy's own presentation and rejection rule when it gives them", () => {
  const session = createAuthSession({
    ...base,
    authorize: (t) => ({ 'x-auth-token': t.accessToken }),
    isTokenRejected: (r) => r.status === 401 || r.headers?.get('x-token-expired') === '1',
  });
  expect(session.authorize({ accessToken: 'abc' })).toEqual({ 'x-auth-token': 'abc' });
  expect(session.isTokenRejected({ status: 400, headers: new Headers({ 'x-token-expired': '1' }) })).toBe(true);
  expect(session.isTokenRejected({ status: 403, headers: new Headers() })).toBe(false);
});
