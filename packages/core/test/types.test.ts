// Type-level tests: checked by `tsc` (the typecheck task), trivially true at run time.
import { describe, expectTypeOf, it } from 'vitest';
import {
  AuthError,
  type NetworkError,
  RateLimitedError,
  ServerError,
  TimeoutError,
  createAuthSession,
  defineStrategy,
  isAuthError,
  type AuthErrorCode,
  type AuthSession,
  type KnownAuthError,
  type Strategy,
  type TokenSet,
} from '@auth/core';

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

  it('each error class has its own literal code', () => {
    expectTypeOf(new RateLimitedError().code).toEqualTypeOf<'RATE_LIMITED'>();
    expectTypeOf(new TimeoutError().code).toEqualTypeOf<'TIMEOUT'>();
    expectTypeOf<KnownAuthError['code']>().toEqualTypeOf<AuthErrorCode>();
    expectTypeOf<KnownAuthError>().toMatchTypeOf<AuthError>();
    // @ts-expect-error a ServerError is not a NetworkError any more (their codes differ)
    const wrong: NetworkError = new ServerError();
    void wrong;
  });

  it('isAuthError narrows to the union, and switch (code) narrows to the class', () => {
    const seen = (error: unknown): number | undefined => {
      if (!isAuthError(error)) return undefined;
      expectTypeOf(error).toEqualTypeOf<KnownAuthError>();
      switch (error.code) {
        case 'RATE_LIMITED':
          expectTypeOf(error).toEqualTypeOf<RateLimitedError>();
          return error.retryAfterMs;
        case 'TIMEOUT':
          return error.timeoutMs;
        case 'NETWORK':
          expectTypeOf(error).toEqualTypeOf<NetworkError>();
          // @ts-expect-error only a RateLimitedError has retryAfterMs
          return error.retryAfterMs;
        default:
          return error.status;
      }
    };
    void seen;
  });
});
