import { BadResponseError, ConfigurationError, type StrategyContext, type TokenSet } from '@auth/core';

/** Where a Core server's auth endpoints are, from its base URL (which may carry a path prefix). */
export interface CoreEndpoints {
  base: string;
  origin: string;
  login: string;
  refresh: string;
}

export function coreEndpoints(baseUrl: unknown, strategy: string): CoreEndpoints {
  let url: URL;
  try {
    url = new URL(String(baseUrl));
  } catch {
    throw new ConfigurationError(`${strategy}: baseUrl must be an absolute http(s) URL`, { strategy });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigurationError(`${strategy}: baseUrl must be an http(s) URL`, { strategy });
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  return { base, origin: url.origin, login: `${base}/api/login`, refresh: `${base}/api/login/refresh` };
}

interface LoginBody {
  access_token?: unknown;
  refresh_token?: unknown;
}

/** Reads Core's `{access_token, refresh_token}`; anything else is a bad response. */
export function readTokenPair(body: LoginBody | undefined, ctx: { strategy: string }): TokenSet {
  if (!body || typeof body.access_token !== 'string' || body.access_token === '' || typeof body.refresh_token !== 'string' || body.refresh_token === '') {
    throw new BadResponseError(`${ctx.strategy}: the login answer has no access_token/refresh_token pair`, { operation: 'login', strategy: ctx.strategy });
  }
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

/**
 * `GET /api/login/refresh` with the refresh token as bearer. Core answers only a new access token:
 * the refresh token is not rotated, so none is returned and the session keeps the old one.
 */
export async function refreshCoreToken(endpoints: CoreEndpoints, tokens: TokenSet, ctx: StrategyContext, strategy: string): Promise<TokenSet> {
  const { body } = await ctx.http<{ access_token?: unknown } | undefined>({
    operation: 'refresh',
    url: endpoints.refresh,
    method: 'GET',
    headers: { authorization: `Bearer ${tokens.refreshToken ?? ''}` },
  });
  if (!body || typeof body.access_token !== 'string' || body.access_token === '') {
    throw new BadResponseError(`${strategy}: the refresh answer has no access_token`, { operation: 'refresh', strategy });
  }
  return { accessToken: body.access_token };
}

/** Core answers an invalid or expired token with 401; a 403 (newer Core: access denied) is not a reason to refresh. */
export function isCoreTokenRejected(response: { status: number }): boolean {
  return response.status === 401;
}
