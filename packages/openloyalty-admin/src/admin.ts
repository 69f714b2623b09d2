import type { PasswordOptions, Strategy } from '@auth/core';
import { openLoyaltyJwt, type OpenLoyaltyRateLimitOptions } from './jwt-strategy.js';

/**
 * Options of {@link openLoyaltyAdmin}: the instance, and a fixed `username` + `password` or a
 * `credentials` callback asked at each login that cannot be avoided (never for a refresh), for apps
 * that must not keep a password (browsers).
 *
 * @example
 * const options: OpenLoyaltyAdminOptions = { baseUrl: 'https://tenant.openloyalty.io', username: 'admin@example.com', password: process.env.OL_PASSWORD! };
 */
export type OpenLoyaltyAdminOptions = OpenLoyaltyAdminInstanceOptions & PasswordOptions;

/**
 * The non-credential part of {@link OpenLoyaltyAdminOptions}.
 *
 * @example
 * const instance: OpenLoyaltyAdminInstanceOptions = { baseUrl: 'https://tenant.openloyalty.io' };
 */
export interface OpenLoyaltyAdminInstanceOptions {
  /** The OpenLoyalty instance, e.g. `https://tenant.openloyalty.io` (a path prefix is kept). */
  baseUrl: string | URL;
  /**
   * The auth-call budget declared to the core: OpenLoyalty allows 20 login + refresh calls per minute.
   * Default: 20 per 60 000 ms, one budget per account and base URL shared by every session of the process.
   */
  rateLimit?: OpenLoyaltyRateLimitOptions;
  /** Key of the token set in a shared store. Default: per account and base URL. */
  storeKey?: string;
}

/**
 * Strategy for OpenLoyalty's admin JWT: `POST /api/admin/login_check`, rotating refresh tokens via
 * `POST /api/token/refresh` (a dead refresh token falls back to a login), logout via
 * `GET /api/token/revoke`, and the documented 20-per-minute limit declared to the core so bursts are
 * paced rather than refused.
 *
 * @example
 * import { createAuthSession } from '@auth/core';
 * import { openLoyaltyAdmin } from '@auth/openloyalty-admin';
 *
 * const session = createAuthSession(
 *   openLoyaltyAdmin({ baseUrl: 'https://tenant.openloyalty.io', username: 'admin@example.com', password: process.env.OL_PASSWORD! }),
 * );
 * const { accessToken } = await session.getToken();
 */
export function openLoyaltyAdmin(options: OpenLoyaltyAdminOptions): Strategy {
  return openLoyaltyJwt({
    ...(options as PasswordOptions),
    name: 'openloyalty-admin',
    baseUrl: options?.baseUrl,
    loginPath: '/api/admin/login_check',
    refreshPath: '/api/token/refresh',
    revokePath: '/api/token/revoke',
    rateLimit: options?.rateLimit,
    storeKey: options?.storeKey,
  });
}
