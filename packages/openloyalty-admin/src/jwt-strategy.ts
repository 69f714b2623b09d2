import {
  BadResponseError,
  ConfigurationError,
  httpBaseUrl,
  RefreshRejectedError,
  isAuthError,
  passwordSource,
  type PasswordOptions,
  type RateLimitSpec,
  type Strategy,
  type StrategyContext,
  type TokenSet,
} from '@auth/core';

/**
 * Overrides of the declared auth-call budget (upstream: 20 per minute per account).
 *
 * @example
 * openLoyaltyAdmin({ baseUrl, username, password, rateLimit: { max: 10 } }); // stay well under the limit
 */
export interface OpenLoyaltyRateLimitOptions {
  /** Budget key; sessions declaring the same key share one limiter. Default: per account and base URL. */
  key?: string;
  /** Calls per window. Default 20. */
  max?: number;
  /** Window in ms. Default 60 000. */
  windowMs?: number;
}

/**
 * Options of {@link openLoyaltyJwt}: the OpenLoyalty JWT flow with explicit endpoint paths.
 *
 * @example
 * const options: OpenLoyaltyJwtOptions = { name: 'ol-legacy', baseUrl, username, password, loginPath: '/api/admin/login_check', refreshPath: '/api/token/refresh' };
 */
export type OpenLoyaltyJwtOptions = OpenLoyaltyJwtFlowOptions & PasswordOptions;

/**
 * The non-credential part of {@link OpenLoyaltyJwtOptions}.
 *
 * @example
 * const flow: OpenLoyaltyJwtFlowOptions = { name: 'ol-legacy', baseUrl, loginPath: '/api/admin/login_check', refreshPath: '/api/token/refresh' };
 */
export interface OpenLoyaltyJwtFlowOptions {
  /** Strategy name used in errors, events and logs. */
  name: string;
  /** The OpenLoyalty instance, e.g. `https://tenant.openloyalty.io` (a path prefix is kept). */
  baseUrl: string | URL;
  /** Login path under `baseUrl`, already encoded, e.g. `/api/admin/login_check`. */
  loginPath: string;
  /** Refresh path under `baseUrl`, already encoded, e.g. `/api/token/refresh`. */
  refreshPath: string;
  /** Revoke path under `baseUrl`. Default `/api/token/revoke`. */
  revokePath?: string;
  /** Identifies the account in store and budget keys, e.g. `admin:alice`. Default `username` (empty without one). */
  account?: string;
  /** Key of the token set in a shared store. Default: name, base URL and account. */
  storeKey?: string;
  /** The auth-call budget declared to the core. */
  rateLimit?: OpenLoyaltyRateLimitOptions;
  /** Runs before each login (e.g. a one-time notice). */
  beforeLogin?: (ctx: StrategyContext) => void;
}

/** Parses and checks the base URL. Throws `ConfigurationError` when unusable. */
const normalizeBaseUrl = (baseUrl: string | URL, strategy: string): URL => httpBaseUrl(baseUrl, strategy);

function requireString(value: unknown, field: string, strategy: string): string {
  if (typeof value !== 'string' || value === '')
    throw new ConfigurationError(`${strategy}: ${field} must be a non-empty string`, { strategy });
  return value;
}

interface TokenAnswer {
  token?: unknown;
  refresh_token?: unknown;
}

function toTokenSet(
  body: unknown,
  operation: 'login' | 'refresh',
  strategy: string,
  previousRefresh?: string,
): TokenSet {
  const answer = (body && typeof body === 'object' ? body : {}) as TokenAnswer;
  if (typeof answer.token !== 'string' || answer.token === '') {
    throw new BadResponseError(`${strategy}: the ${operation} answer has no "token"`, { operation, strategy });
  }
  const refreshToken =
    typeof answer.refresh_token === 'string' && answer.refresh_token !== '' ? answer.refresh_token : previousRefresh;
  return { accessToken: answer.token, refreshToken };
}

/**
 * The OpenLoyalty JWT flow shared by the admin and member strategies: JSON login with
 * `{ username, password }`, refresh with `{ refresh_token }` (the rotated refresh token replaces the
 * old one), logout through `GET /api/token/revoke`, and a 20-per-minute budget per account and base
 * URL declared to the core. Use {@link openLoyaltyAdmin} or `openLoyaltyMember` unless you need other paths.
 *
 * @example
 * import { createAuthSession } from '@auth/core';
 * import { openLoyaltyJwt } from '@auth/openloyalty-admin';
 * const strategy = openLoyaltyJwt({
 *   name: 'openloyalty-admin',
 *   baseUrl: 'https://tenant.openloyalty.io',
 *   username: 'admin',
 *   password: process.env.OL_PASSWORD!,
 *   loginPath: '/api/admin/login_check',
 *   refreshPath: '/api/token/refresh',
 * });
 * const session = createAuthSession(strategy);
 */
export function openLoyaltyJwt(options: OpenLoyaltyJwtOptions): Strategy {
  const name = requireString(options?.name, 'name', 'openloyalty');
  const base = normalizeBaseUrl(options.baseUrl, name);
  // The password is kept in this closure only (never a property of the strategy object, so it cannot
  // be logged with it), or not kept at all: a `credentials` callback is asked at each login.
  const source = passwordSource(options, name);
  // `https://host[:port][/prefix]`: no trailing slash, query or fragment.
  const baseText = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  const url = (path: string) => `${baseText}${path.startsWith('/') ? path : `/${path}`}`;
  const loginUrl = url(options.loginPath);
  const refreshUrl = url(options.refreshPath);
  const revokeUrl = url(options.revokePath ?? '/api/token/revoke');
  const account = options.account ?? source.username ?? '';
  const rateLimit: RateLimitSpec = {
    key: options.rateLimit?.key ?? `${name}:${baseText}:${account}`,
    max: options.rateLimit?.max ?? 20,
    windowMs: options.rateLimit?.windowMs ?? 60_000,
  };
  if (!(rateLimit.max >= 1) || !(rateLimit.windowMs > 0))
    throw new ConfigurationError(`${name}: rateLimit.max must be >= 1 and rateLimit.windowMs > 0`, { strategy: name });

  async function refreshWith(refreshToken: string, ctx: StrategyContext): Promise<TokenSet> {
    const { body } = await ctx.http({ operation: 'refresh', url: refreshUrl, json: { refresh_token: refreshToken } });
    return toTokenSet(body, 'refresh', name, refreshToken);
  }

  async function revokeWith(accessToken: string, ctx: StrategyContext): Promise<boolean> {
    // 401: the access token is no longer accepted; the caller decides whether to renew and retry.
    const res = await ctx.http({
      operation: 'revoke',
      url: revokeUrl,
      method: 'GET',
      headers: { authorization: `Bearer ${accessToken}` },
      statusMap: { 401: 'ok' },
    });
    return res.status !== 401;
  }

  // A pair obtained by a revoke's renewal, keyed by the token set being revoked: when the revoke call
  // then fails and the session retries it, the original refresh token is already spent, so the retry
  // must revoke with this pair (or logout would succeed while the rotated refresh token lives on).
  const renewedForRevoke = new WeakMap<TokenSet, TokenSet>();

  return {
    name,
    origins: [base.origin],
    authEndpoints: [loginUrl, refreshUrl],
    storeKey: options.storeKey ?? `${name}:${baseText}:${account}`,
    rateLimit,
    async login(ctx) {
      options.beforeLogin?.(ctx);
      const { username, password } = await source.get(ctx);
      const { body } = await ctx.http({ operation: 'login', url: loginUrl, json: { username, password } });
      return toTokenSet(body, 'login', name);
    },
    async refresh(tokens, ctx) {
      if (!tokens.refreshToken)
        throw new RefreshRejectedError(`${name}: no refresh token to refresh with`, { strategy: name });
      return refreshWith(tokens.refreshToken, ctx);
    },
    async revoke(original, ctx) {
      const tokens = renewedForRevoke.get(original) ?? original;
      // Revoke needs a live access token. When ours has expired (or was invalidated), renew it once
      // with the refresh token, then revoke: that kills the rotated refresh token as well.
      const expired = tokens.expiresAt !== undefined && ctx.now() >= tokens.expiresAt;
      if (!expired && (await revokeWith(tokens.accessToken, ctx))) return;
      if (!tokens.refreshToken) return;
      let renewed: TokenSet;
      try {
        renewed = await refreshWith(tokens.refreshToken, ctx);
      } catch (error) {
        // A dead refresh token leaves nothing on the server to revoke.
        if (isAuthError(error) && error.code === 'REFRESH_REJECTED') return;
        throw error;
      }
      renewedForRevoke.set(original, renewed);
      await revokeWith(renewed.accessToken, ctx);
    },
  };
}
