import { passwordSource, type PasswordOptions, type Strategy } from '@auth/core';
import { coreEndpoints, coreLoginTimeout, isCoreTokenRejected, readTokenPair, refreshCoreToken } from './core-api.js';

/**
 * Options of {@link datarheiPassword}.
 *
 * @example
 * const options: DatarheiPasswordOptions = { baseUrl: 'https://core.example.com', username: 'admin', password: process.env.CORE_PASSWORD! };
 */
export type DatarheiPasswordOptions = DatarheiCoreOptions & PasswordOptions;

/**
 * The non-credential part of {@link DatarheiPasswordOptions}: Core's `api.auth.username` +
 * `api.auth.password`, or a `credentials` callback asked at each login that cannot be avoided (no
 * tokens, expired or rejected refresh token), never for a refresh, complete it.
 *
 * @example
 * const core: DatarheiCoreOptions = { baseUrl: 'https://core.example.com' };
 */
export interface DatarheiCoreOptions {
  /** The Core server, e.g. `https://core.example.com` (a path prefix behind a proxy is kept). */
  baseUrl: string;
  /** Name used in errors, events and logs. Default `datarhei-password`. */
  name?: string;
  /** Key of the token set in a shared store. Default `datarhei-password:<username>@<baseUrl>`. */
  storeKey?: string;
}

/**
 * datarhei Core username/password login (`POST /api/login`), refresh with `GET /api/login/refresh`
 * (the refresh token is not rotated and is kept), expiry from the tokens' `exp`/`exi`. When the
 * refresh token has expired (checked locally first) or is rejected, the session logs in again.
 *
 * Errors: wrong username or password (401, or 403 on newer Core) is `CREDENTIALS_REJECTED` and is not
 * retried; `400 Missing authorization credentials` is `CONFIGURATION`. A 403 on an API call never
 * triggers a refresh: only 401 means "token rejected".
 *
 * @example
 * import { createAuthSession } from '@auth/core';
 * import { datarheiPassword } from '@auth/datarhei-password';
 *
 * const session = createAuthSession(
 *   datarheiPassword({ baseUrl: 'https://core.example.com', username: 'admin', password: process.env.CORE_PASSWORD! }),
 * );
 * const { accessToken } = await session.getToken();
 * await fetch('https://core.example.com/api/v3/process', { headers: { authorization: `Bearer ${accessToken}` } });
 */
export function datarheiPassword(options: DatarheiPasswordOptions): Strategy {
  const name = options?.name ?? 'datarhei-password';
  const endpoints = coreEndpoints(options?.baseUrl, name);
  const source = passwordSource(options, name);

  return {
    name,
    origins: [endpoints.origin],
    authEndpoints: [endpoints.login, endpoints.refresh],
    storeKey:
      options.storeKey ??
      (source.username === undefined ? `${name}@${endpoints.base}` : `${name}:${source.username}@${endpoints.base}`),
    async login(ctx) {
      const { username, password } = await source.get(ctx);
      const { body } = await ctx.http<{ access_token?: unknown; refresh_token?: unknown } | undefined>({
        operation: 'login',
        url: endpoints.login,
        json: { username, password },
        timeoutMs: coreLoginTimeout(ctx),
        // Core answers a malformed or incomplete login body with 400: a set-up problem, not bad credentials.
        statusMap: { 400: 'configuration', 401: 'credentials', 403: 'credentials' },
      });
      return readTokenPair(body, { strategy: name });
    },
    refresh(tokens, ctx) {
      return refreshCoreToken(endpoints, tokens, ctx, name);
    },
    isTokenRejected: isCoreTokenRejected,
  };
}
