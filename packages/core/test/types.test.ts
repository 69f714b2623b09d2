// Type-level tests: checked by `tsc` (the typecheck task), trivially true at run time.
import { describe, expectTypeOf, it } from 'vitest';
import { AuthError, createAuthSession, defineStrategy, type AuthErrorCode, type AuthSession, type Strategy, type TokenSet } from '@auth/core';

describe('public types', () => {
  it('a strategy is a plain object; login is required, the rest optional', () => {
    const s = defineStrategy({ name: 'x', origins: ['https://x.test'], login: async () => ({ accessToken: 't' }) });
    expectTypeOf(s).toMatchTypeOf<Strategy>();
    expectTypeOf(createAuthSession(s)).toEqualTypeOf<AuthSession>();
    // @ts-expect-error login is required
    const missing: Strategy = { name: 'x', origins: [] };
    void missing;
    expectTypeOf<AuthSession['getToken']>().returns.resolves.toEqualTypeOf<TokenSet>();
  });

  it('error codes narrow', () => {
    const e = new AuthError('TIMEOUT', 'x');
    expectTypeOf(e.code).toEqualTypeOf<AuthErrorCode>();
    // @ts-expect-error not a code
    const bad: AuthErrorCode = 'NOPE';
    void bad;
  });
});
