import { expectTypeOf, it } from 'vitest';
import type { Strategy } from '@auth/core';
import { openLoyaltyAdmin, openLoyaltyJwt, type OpenLoyaltyAdminOptions } from '@auth/openloyalty-admin';

it('has the public types it documents', () => {
  expectTypeOf(openLoyaltyAdmin).parameter(0).toEqualTypeOf<OpenLoyaltyAdminOptions>();
  expectTypeOf(openLoyaltyAdmin).returns.toEqualTypeOf<Strategy>();
  expectTypeOf(openLoyaltyJwt).returns.toEqualTypeOf<Strategy>();
  expectTypeOf<OpenLoyaltyAdminOptions['rateLimit']>().toEqualTypeOf<
    { key?: string; max?: number; windowMs?: number } | undefined
  >();
  // @ts-expect-error the password is required
  const missing: OpenLoyaltyAdminOptions = { baseUrl: 'https://x.test', username: 'a' };
  void missing;
});
