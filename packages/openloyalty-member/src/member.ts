import { ConfigurationError, type PasswordOptions, type Strategy, type StrategyContext } from '@auth/core';
import { openLoyaltyJwt, type OpenLoyaltyRateLimitOptions } from '@auth/openloyalty-admin';

/**
 * Options of {@link openLoyaltyMember}.
 *
 * @example
 * const options: OpenLoyaltyMemberOptions = { baseUrl: 'https://tenant.openloyalty.io', storeCode: 'default', username: 'member@example.com', password: process.env.OL_MEMBER_PASSWORD! };
 */
export type OpenLoyaltyMemberOptions = OpenLoyaltyMemberStoreOptions & PasswordOptions;

/**
 * The non-credential part of {@link OpenLoyaltyMemberOptions}; the member's `username` + `password`,
 * or a `credentials` callback (asked at each login that cannot be avoided, never for a refresh: a
 * browser app shows its login form there) complete it.
 *
 * @example
 * const where: OpenLoyaltyMemberStoreOptions = { baseUrl: 'https://tenant.openloyalty.io', storeCode: 'default' };
 */
export interface OpenLoyaltyMemberStoreOptions {
  /** The OpenLoyalty instance, e.g. `https://tenant.openloyalty.io` (a path prefix is kept). */
  baseUrl: string | URL;
  /** The tenant's store code (OpenLoyalty's tooling defaults to `default`). Passed verbatim, URL-encoded. */
  storeCode: string;
  /** The auth-call budget declared to the core. Default: 20 per 60 000 ms per store, account and base URL. */
  rateLimit?: OpenLoyaltyRateLimitOptions;
  /** Key of the token set in a shared store. Default: per store, account and base URL. */
  storeKey?: string;
}

const DEPRECATION =
  'OpenLoyalty member tokens (/api/{storeCode}/member/login_check) are deprecated upstream and will be discontinued; consider API keys (@auth/openloyalty-api-key).';
// On globalThis, not in a module variable: a process may load both the ESM and the CJS build (or two
// copies of this package), and the notice is once per process, not per copy.
const REPORTED = Symbol.for('@auth/openloyalty-member:deprecation-reported');

function reportDeprecation(ctx: StrategyContext): void {
  const flags = globalThis as { [REPORTED]?: boolean };
  if (flags[REPORTED]) return;
  flags[REPORTED] = true;
  const proc = (
    globalThis as { process?: { emitWarning?: (message: string, options: { type: string; code: string }) => void } }
  ).process;
  if (typeof proc?.emitWarning === 'function')
    proc.emitWarning(DEPRECATION, { type: 'DeprecationWarning', code: 'AUTH_OPENLOYALTY_MEMBER_TOKEN' });
  else ctx.logger.warn(DEPRECATION, { strategy: 'openloyalty-member' });
}

/**
 * Strategy for OpenLoyalty's member JWT (deprecated upstream, still served):
 * `POST /api/{storeCode}/member/login_check` and rotating refresh tokens via
 * `POST /api/{storeCode}/token/refresh`, logout via `GET /api/token/revoke`. The store code is
 * URL-encoded into the path. The deprecation is reported once per process (a Node
 * `DeprecationWarning`, or the session's logger where there is no `process`), at the first login.
 * Only some OpenLoyalty endpoints accept a member token; the others answer 403, which is not a reason
 * to refresh.
 *
 * @example
 * import { createAuthSession } from '@auth/core';
 * import { openLoyaltyMember } from '@auth/openloyalty-member';
 *
 * const session = createAuthSession(
 *   openLoyaltyMember({ baseUrl: 'https://tenant.openloyalty.io', storeCode: 'default', username: 'member@example.com', password: process.env.OL_MEMBER_PASSWORD! }),
 * );
 * const { accessToken } = await session.getToken();
 */
export function openLoyaltyMember(options: OpenLoyaltyMemberOptions): Strategy {
  const storeCode = options?.storeCode;
  if (typeof storeCode !== 'string' || storeCode === '')
    throw new ConfigurationError('openloyalty-member: storeCode must be a non-empty string', {
      strategy: 'openloyalty-member',
    });
  // "." and ".." would be resolved away by URL normalisation (even percent-encoded), escaping the store.
  if (storeCode === '.' || storeCode === '..')
    throw new ConfigurationError('openloyalty-member: storeCode cannot be "." or ".."', {
      strategy: 'openloyalty-member',
    });
  const store = encodeURIComponent(storeCode);
  return openLoyaltyJwt({
    ...(options as PasswordOptions),
    name: 'openloyalty-member',
    baseUrl: options.baseUrl,
    loginPath: `/api/${store}/member/login_check`,
    refreshPath: `/api/${store}/token/refresh`,
    revokePath: '/api/token/revoke',
    account: options.username === undefined ? store : `${store}:${options.username}`,
    rateLimit: options.rateLimit,
    storeKey: options.storeKey,
    beforeLogin: reportDeprecation,
  });
}
