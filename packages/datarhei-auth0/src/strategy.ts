import {
  ConfigurationError,
  CredentialsRejectedError,
  isAuthError,
  type Strategy,
  type StrategyContext,
  type TokenSet,
} from '@auth/core';
import {
  Auth0TokenCache,
  callerSource,
  clientCredentialsSource,
  refreshTokenSource,
  type Acquire,
  type Auth0ClientCredentialsOptions,
  type Auth0GetToken,
  type Auth0RefreshTokenOptions,
} from './auth0-token.js';
import {
  coreEndpoints,
  coreLoginTimeout,
  isCoreTokenRejected,
  readTokenPair,
  refreshCoreToken,
} from '@auth/datarhei-password';

interface DatarheiAuth0BaseOptions {
  /** The Core server, e.g. `https://core.example.com` (a path prefix behind a proxy is kept). */
  baseUrl: string;
  /**
   * Reuse an Auth0 token until this long before it expires (at most half its lifetime). Default 60 000.
   */
  auth0ExpiryMarginMs?: number;
  /** Name used in errors, events and logs. Default `datarhei-auth0`. */
  name?: string;
  /** Key of the token set in a shared store. Default `datarhei-auth0:<client id or "custom">@<baseUrl>`. */
  storeKey?: string;
}

/**
 * Options of {@link datarheiAuth0}: the Core server plus exactly one way to obtain Auth0 tokens:
 * `clientCredentials`, `refreshTokenGrant` or `getToken`.
 *
 * @example
 * const options: DatarheiAuth0Options = {
 *   baseUrl: 'https://core.example.com',
 *   clientCredentials: { issuer: 'https://tenant.eu.auth0.com/', clientId: 'abc', clientSecret: process.env.AUTH0_SECRET!, audience: 'https://core.example.com/api' },
 * };
 */
export type DatarheiAuth0Options = DatarheiAuth0BaseOptions &
  (
    | { clientCredentials: Auth0ClientCredentialsOptions; refreshTokenGrant?: never; getToken?: never }
    | { refreshTokenGrant: Auth0RefreshTokenOptions; clientCredentials?: never; getToken?: never }
    | { getToken: Auth0GetToken; clientCredentials?: never; refreshTokenGrant?: never }
  );

/**
 * datarhei Core login with an Auth0 access token. The Auth0 token comes from a client credentials
 * grant, a refresh-token grant (a user who signed in elsewhere) or a caller-supplied `getToken()`
 * (e.g. Auth0's SPA SDK); grants go through `openid-client` over the session's `fetch`. The token is
 * reused until shortly before it expires, across Core logins; `POST /api/login` exchanges it for Core
 * tokens, which are refreshed with `GET /api/login/refresh`. When Core's refresh token dies the
 * session logs in again, obtaining a new Auth0 token only if the cached one is no longer valid.
 *
 * Core answers a token whose issuer is not one of its tenants, or whose `sub` is not on the tenant's
 * user list, with `CREDENTIALS_REJECTED` (after Core's 5-second delay); the message names the subject.
 * Provider outages are `NETWORK`, `TIMEOUT` or `SERVER_ERROR` (retried by the session). Client
 * secrets and Auth0 tokens never appear in errors, logs or events.
 *
 * @example
 * import { createAuthSession } from '@auth/core';
 * import { datarheiAuth0 } from '@auth/datarhei-auth0';
 *
 * const session = createAuthSession(
 *   datarheiAuth0({
 *     baseUrl: 'https://core.example.com',
 *     clientCredentials: {
 *       issuer: 'https://my-tenant.eu.auth0.com/',
 *       clientId: process.env.AUTH0_CLIENT_ID!,
 *       clientSecret: process.env.AUTH0_CLIENT_SECRET!,
 *       audience: 'https://core.example.com/api',
 *     },
 *   }),
 * );
 * const tokens = await session.getToken();
 * await fetch('https://core.example.com/api/v3/process', { headers: session.authorize(tokens) });
 */
export function datarheiAuth0(options: DatarheiAuth0Options): Strategy {
  const name = options?.name ?? 'datarhei-auth0';
  const endpoints = coreEndpoints(options?.baseUrl, name);
  const sources = [options.clientCredentials, options.refreshTokenGrant, options.getToken].filter(
    (s) => s !== undefined,
  );
  if (sources.length !== 1)
    throw new ConfigurationError(`${name}: pass exactly one of clientCredentials, refreshTokenGrant or getToken`, {
      strategy: name,
    });
  let acquire: Acquire;
  let account: string;
  if (options.clientCredentials) {
    acquire = clientCredentialsSource(options.clientCredentials, name);
    account = options.clientCredentials.clientId;
  } else if (options.refreshTokenGrant) {
    acquire = refreshTokenSource(options.refreshTokenGrant, name);
    account = options.refreshTokenGrant.clientId;
  } else {
    acquire = callerSource(options.getToken!, name);
    account = 'custom';
  }
  const margin = options.auth0ExpiryMarginMs ?? 60_000;
  if (!(margin >= 0))
    throw new ConfigurationError(`${name}: auth0ExpiryMarginMs must be a non-negative number`, { strategy: name });
  const auth0 = new Auth0TokenCache(acquire, margin, name);

  const exchange = async (token: string, ctx: StrategyContext): Promise<TokenSet> => {
    const { body } = await ctx.http<{ access_token?: unknown; refresh_token?: unknown } | undefined>({
      operation: 'login',
      url: endpoints.login,
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      timeoutMs: coreLoginTimeout(ctx),
      statusMap: { 400: 'configuration', 401: 'credentials', 403: 'credentials' },
    });
    return readTokenPair(body, { strategy: name });
  };

  return {
    name,
    origins: [endpoints.origin],
    authEndpoints: [endpoints.login, endpoints.refresh],
    storeKey: options.storeKey ?? `${name}:${account}@${endpoints.base}`,
    async login(ctx) {
      let { token, fresh } = await auth0.get(ctx);
      for (;;) {
        try {
          return await exchange(token, ctx);
        } catch (error) {
          if (!(isAuthError(error) && error.code === 'CREDENTIALS_REJECTED')) throw error;
          // Core refused it: never reuse it. A cached token may have been revoked or Core restarted
          // with a newer key set: try once with a fresh one. A fresh token refused means the tenant or
          // the user is not accepted, which another token will not change.
          auth0.drop(token);
          if (!fresh) {
            ({ token, fresh } = await auth0.get(ctx, { forceRefresh: true }));
            continue;
          }
          throw new CredentialsRejectedError(
            `${name}: ${endpoints.base} refused the Auth0 token of ${describeSubject(token)}. Core accepts it only when its issuer is one of Core's Auth0 tenants and its subject is on that tenant's user list (${error.message})`,
            { strategy: name, status: error.status },
          );
        }
      }
    },
    refresh(tokens, ctx) {
      return refreshCoreToken(endpoints, tokens, ctx, name);
    },
    isTokenRejected: isCoreTokenRejected,
  };
}

/** `subject "x@clients" of issuer "https://tenant/"`: identifiers only, never the token. */
function describeSubject(token: string): string {
  try {
    const part = token.split('.')[1] ?? '';
    const { sub, iss } = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as {
      sub?: unknown;
      iss?: unknown;
    };
    return `subject ${JSON.stringify(String(sub))} of issuer ${JSON.stringify(String(iss))}`;
  } catch {
    return 'a token that is not a JWT';
  }
}
