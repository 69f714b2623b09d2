import { ConfigurationError, type Strategy } from '@auth/core';
import { coreEndpoints, coreLoginTimeout, isCoreTokenRejected, readTokenPair, refreshCoreToken } from './core-api.js';

/**
 * Options of {@link datarheiPassword}.
 *
 * @example
 * const options: DatarheiPasswordOptions = { baseUrl: 'https://core.example.com', username: 'admin', password: process.env.CORE_PASSWORD! };
 */
export interface DatarheiPasswordOptions {
  /** The Core server, e.g. `https://core.example.com` (a path prefix behind a proxy is kept). */
  baseUrl: string;
  /** Core's `api.auth.username`. */
  username: string;
  /** Core's `api.auth.password`. Never appears in errors, logs or events. */
  password: string;
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
  const { username, password } = options;
  if (typeof username !== 'string' || username === '') throw new ConfigurationError(`${name}: username is required`, { strategy: name });
  if (typeof password !== 'string' || password === '') throw new ConfigurationError(`${name}: password is required`, { strategy: name });

  return {
    name,
    origins: [endpoints.origin],
    authEndpoints: [endpoints.login, endpoints.refresh],
    storeKey: options.storeKey ?? `${name}:${username}@${endpoints.base}`,
    async login(ctx) {
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
