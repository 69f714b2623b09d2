import { BadResponseError, httpBaseUrl, type StrategyContext, type TokenSet } from '@auth/core';

/**
 * Where a Core server's auth endpoints are, from its base URL (which may carry a path prefix).
 *
 * @example
 * const endpoints: CoreEndpoints = coreEndpoints('https://core.example.com/proxy/', 'my-core');
 * endpoints.login; // 'https://core.example.com/proxy/api/login'
 */
export interface CoreEndpoints {
  base: string;
  origin: string;
  login: string;
  refresh: string;
}

/**
 * The auth endpoints of the Core server at `baseUrl`. Throws `CONFIGURATION` for a URL that is not http(s).
 *
 * @example
 * import { coreEndpoints } from '@auth/datarhei-password';
 * const { login, refresh, origin } = coreEndpoints('https://core.example.com', 'my-core');
 */
export function coreEndpoints(baseUrl: unknown, strategy: string): CoreEndpoints {
  const url = httpBaseUrl(baseUrl, strategy);
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  return { base, origin: url.origin, login: `${base}/api/login`, refresh: `${base}/api/login/refresh` };
}

interface LoginBody {
  access_token?: unknown;
  refresh_token?: unknown;
}

/**
 * The shortest time a login to Core is given, in ms. Core answers every rejected login (wrong
 * credentials, a bad body, an unknown Auth0 user) only after 5 s: a shorter timeout would turn the
 * rejection into retried `TIMEOUT`s and hide the real error.
 */
export const CORE_LOGIN_MIN_TIMEOUT_MS = 10_000;

/**
 * The timeout of a login to Core: the session's, but never below {@link CORE_LOGIN_MIN_TIMEOUT_MS}.
 *
 * @example
 * import { coreLoginTimeout } from '@auth/datarhei-password';
 * await ctx.http({ operation: 'login', url: endpoints.login, json: { username, password }, timeoutMs: coreLoginTimeout(ctx) });
 */
export function coreLoginTimeout(ctx: { timeoutMs?: number }): number {
  return Math.max(ctx.timeoutMs ?? 0, CORE_LOGIN_MIN_TIMEOUT_MS);
}

/**
 * Reads Core's `{access_token, refresh_token}`; anything else is a `BAD_RESPONSE`.
 *
 * @example
 * import { readTokenPair } from '@auth/datarhei-password';
 * const { body } = await ctx.http({ operation: 'login', url: endpoints.login, json: { username, password } });
 * return readTokenPair(body as { access_token?: unknown; refresh_token?: unknown }, { strategy: 'my-core' });
 */
export function readTokenPair(body: LoginBody | undefined, ctx: { strategy: string }): TokenSet {
  if (
    !body ||
    typeof body.access_token !== 'string' ||
    body.access_token === '' ||
    typeof body.refresh_token !== 'string' ||
    body.refresh_token === ''
  ) {
    throw new BadResponseError(`${ctx.strategy}: the login answer has no access_token/refresh_token pair`, {
      operation: 'login',
      strategy: ctx.strategy,
    });
  }
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

/**
 * `GET /api/login/refresh` with the refresh token as bearer. Core answers only a new access token:
 * the refresh token is not rotated, so none is returned and the session keeps the old one.
 *
 * @example
 * import { coreEndpoints, refreshCoreToken } from '@auth/datarhei-password';
 * const endpoints = coreEndpoints('https://core.example.com', 'my-core');
 * const strategy: Strategy = { ...myLogin, refresh: (tokens, ctx) => refreshCoreToken(endpoints, tokens, ctx, 'my-core') };
 */
export async function refreshCoreToken(
  endpoints: CoreEndpoints,
  tokens: TokenSet,
  ctx: StrategyContext,
  strategy: string,
): Promise<TokenSet> {
  const { body } = await ctx.http<{ access_token?: unknown } | undefined>({
    operation: 'refresh',
    url: endpoints.refresh,
    method: 'GET',
    headers: { authorization: `Bearer ${tokens.refreshToken ?? ''}` },
  });
  if (!body || typeof body.access_token !== 'string' || body.access_token === '') {
    throw new BadResponseError(`${strategy}: the refresh answer has no access_token`, {
      operation: 'refresh',
      strategy,
    });
  }
  return { accessToken: body.access_token };
}

/**
 * Core answers an invalid or expired token with 401; a 403 (newer Core: access denied) is not a reason to refresh.
 *
 * @example
 * import { isCoreTokenRejected } from '@auth/datarhei-password';
 * isCoreTokenRejected({ status: 401 }); // true
 * isCoreTokenRejected({ status: 403 }); // false
 */
export function isCoreTokenRejected(response: { status: number }): boolean {
  return response.status === 401;
}
