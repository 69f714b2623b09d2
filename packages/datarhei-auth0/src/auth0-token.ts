import {
  BadResponseError,
  ConfigurationError,
  CredentialsRejectedError,
  NetworkError,
  isAuthError,
  readJwtTimes,
  type StrategyContext,
} from '@auth/core';
import * as oidc from 'openid-client';
import { providerFetch, toAuthError } from './provider-fetch.js';

/**
 * Where an Auth0 (or other OpenID) tenant is and how this client authenticates there.
 *
 * @example
 * const tenant: Auth0TenantOptions = { issuer: 'https://my-tenant.eu.auth0.com/', clientId: 'abc123', audience: 'https://core.example.com/api' };
 */
export interface Auth0TenantOptions {
  /** The issuer, e.g. `https://my-tenant.eu.auth0.com/` (Auth0's issuer ends with a slash). */
  issuer: string;
  clientId: string;
  /** Client secret. Never appears in errors, logs or events. */
  clientSecret?: string;
  /** Auth0 API identifier, sent as `audience` (Auth0's parameter). */
  audience?: string;
  /** RFC 8707 resource indicator, sent as `resource` (standards-based providers). */
  resource?: string;
  /** Scopes to ask for, space-separated. */
  scope?: string;
  /** Allows an `http://` issuer (a local test provider). Default false. */
  allowInsecureRequests?: boolean;
}

/**
 * Client credentials grant: a machine client of the tenant (Core's user is `<client id>@clients` on Auth0).
 *
 * @example
 * datarheiAuth0({
 *   baseUrl: 'https://core.example.com',
 *   clientCredentials: { issuer: 'https://my-tenant.eu.auth0.com/', clientId: 'abc123', clientSecret: process.env.AUTH0_SECRET!, audience: 'https://core.example.com/api' },
 * });
 */
export interface Auth0ClientCredentialsOptions extends Auth0TenantOptions {
  clientSecret: string;
}

/**
 * Refresh-token grant for a user who signed in elsewhere.
 *
 * @example
 * datarheiAuth0({
 *   baseUrl: 'https://core.example.com',
 *   refreshTokenGrant: {
 *     issuer: 'https://my-tenant.eu.auth0.com/',
 *     clientId: 'abc123',
 *     refreshToken: await vault.get('auth0-refresh-token'),
 *     onRefreshToken: (next) => vault.set('auth0-refresh-token', next),
 *   },
 * });
 */
export interface Auth0RefreshTokenOptions extends Auth0TenantOptions {
  /** The user's refresh token. Never appears in errors, logs or events. */
  refreshToken: string;
  /**
   * Called with the new refresh token when the provider rotates it (Auth0's refresh token rotation):
   * persist it, the old one stops working.
   */
  onRefreshToken?: (refreshToken: string) => void | Promise<void>;
}

/**
 * What a caller-supplied `getToken` returns: the token, or the token with its expiry (ms since the epoch).
 *
 * @example
 * const result: Auth0TokenResult = { accessToken: token, expiresAt: Date.now() + 3_600_000 };
 */
export type Auth0TokenResult = string | { accessToken: string; expiresAt?: number };

/**
 * A caller-supplied source (e.g. `auth0.getTokenSilently()` of Auth0's SPA SDK).
 *
 * @example
 * const getToken: Auth0GetToken = ({ forceRefresh }) => auth0.getTokenSilently({ cacheMode: forceRefresh ? 'off' : 'on' });
 * datarheiAuth0({ baseUrl: 'https://core.example.com', getToken });
 */
export type Auth0GetToken = (opts: {
  /** True when datarhei Core rejected the last token: skip any cache of the caller's own. */
  forceRefresh: boolean;
  signal: AbortSignal;
}) => Promise<Auth0TokenResult>;

/** Obtains one provider token; `expiresIn` in seconds when known. */
export type Acquire = (
  ctx: StrategyContext,
  forceRefresh: boolean,
) => Promise<{ token: string | undefined; expiresIn?: number | undefined }>;

/** An Auth0 access token and when it stops being reused. */
interface Cached {
  token: string;
  /** Local clock (ms); `undefined` when the provider gave no expiry. */
  expiresAt: number | undefined;
  obtainedAt: number;
}

export interface Auth0Token {
  token: string;
  /** Whether it was obtained during this call (not reused from the cache). */
  fresh: boolean;
}

/**
 * Obtains Auth0 access tokens and reuses each until shortly before it expires, across Core logins.
 * One acquisition runs at a time; a failed one is not cached.
 */
export class Auth0TokenCache {
  readonly #acquire: Acquire;
  readonly #marginMs: number;
  readonly #strategy: string;
  #cached: Cached | undefined;
  /** The acquisition in flight, and the close signal of the session whose context it runs in. */
  #inFlight: { promise: Promise<Cached>; signal: AbortSignal } | undefined;

  constructor(acquire: Acquire, marginMs: number, strategy: string) {
    this.#acquire = acquire;
    this.#marginMs = marginMs;
    this.#strategy = strategy;
  }

  async get(ctx: StrategyContext, opts: { forceRefresh?: boolean } = {}): Promise<Auth0Token> {
    const cached = this.#cached;
    if (cached && !opts.forceRefresh && this.#usable(cached, ctx.now())) return { token: cached.token, fresh: false };
    for (;;) {
      if (!this.#inFlight) {
        const flight = { promise: this.#obtain(ctx, opts.forceRefresh ?? false), signal: ctx.signal };
        flight.promise = flight.promise.finally(() => {
          if (this.#inFlight === flight) this.#inFlight = undefined;
        });
        this.#inFlight = flight;
      }
      const { promise, signal } = this.#inFlight;
      try {
        const next = await promise;
        return { token: next.token, fresh: true };
      } catch (error) {
        // The request in flight ran in another session's context and that session was closed: this
        // caller is still live, so it starts its own. Bounded: a request of its own is never retried here.
        if (
          isAuthError(error) &&
          error.code === 'ABORTED' &&
          signal !== ctx.signal &&
          signal.aborted &&
          !ctx.signal.aborted
        )
          continue;
        throw error;
      }
    }
  }

  /** Forgets the cached token (Core rejected it). */
  drop(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  #usable(c: Cached, now: number): boolean {
    if (c.expiresAt === undefined) return true;
    const margin = Math.min(this.#marginMs, (c.expiresAt - c.obtainedAt) / 2);
    return now < c.expiresAt - margin;
  }

  async #obtain(ctx: StrategyContext, forceRefresh: boolean): Promise<Cached> {
    const obtainedAt = ctx.now();
    const { token, expiresIn } = await this.#acquire(ctx, forceRefresh);
    if (typeof token !== 'string' || token === '')
      throw new BadResponseError(`${this.#strategy}: the identity provider returned no access token`, {
        operation: 'login',
        strategy: this.#strategy,
      });
    // The provider's expires_in, else the JWT's own lifetime, else no expiry (reused until Core rejects it).
    const expiresAt =
      expiresIn !== undefined ? obtainedAt + expiresIn * 1000 : readJwtTimes(token, obtainedAt).expiresAt;
    const cached = { token, expiresAt, obtainedAt };
    this.#cached = cached;
    ctx.logger.debug('identity provider token obtained', { strategy: this.#strategy, expiresAt });
    return cached;
  }
}

function grantParameters(o: Auth0TenantOptions): Record<string, string> {
  const p: Record<string, string> = {};
  if (o.audience) p.audience = o.audience;
  if (o.resource) p.resource = o.resource;
  if (o.scope) p.scope = o.scope;
  return p;
}

function checkTenant(o: Auth0TenantOptions | undefined, strategy: string): asserts o is Auth0TenantOptions {
  if (!o || typeof o.issuer !== 'string' || o.issuer === '')
    throw new ConfigurationError(`${strategy}: the tenant's issuer is required`, { strategy });
  try {
    new URL(o.issuer);
  } catch {
    throw new ConfigurationError(`${strategy}: the issuer must be an absolute URL`, { strategy });
  }
  if (typeof o.clientId !== 'string' || o.clientId === '')
    throw new ConfigurationError(`${strategy}: clientId is required`, { strategy });
}

/** Discovery once per strategy (cached on success only), then grants through openid-client. */
function openIdClient(o: Auth0TenantOptions, strategy: string, secrets: () => (string | undefined)[]) {
  let configuration: Promise<oidc.Configuration> | undefined;
  const config = (ctx: StrategyContext) => {
    const sent: string[] = [];
    configuration ??= oidc
      .discovery(new URL(o.issuer), o.clientId, o.clientSecret, undefined, {
        [oidc.customFetch]: providerFetch(ctx, strategy, sent),
        execute: o.allowInsecureRequests ? [oidc.allowInsecureRequests] : [],
        timeout: Math.ceil((ctx.timeoutMs ?? 15_000) / 1000),
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw toAuthError(error, strategy, [...secrets(), ...sent]);
      });
    return configuration;
  };
  return async <T>(ctx: StrategyContext, grant: (c: oidc.Configuration) => Promise<T>): Promise<T> => {
    const c = await config(ctx);
    // This call's transport: the session's fetch, bounded by its timeout and close signal; what
    // its requests carry is scrubbed from the provider's answers.
    const sent: string[] = [];
    c[oidc.customFetch] = providerFetch(ctx, strategy, sent);
    try {
      return await grant(c);
    } catch (error) {
      throw toAuthError(error, strategy, [...secrets(), ...sent]);
    }
  };
}

export function clientCredentialsSource(o: Auth0ClientCredentialsOptions, strategy: string): Acquire {
  checkTenant(o, strategy);
  if (typeof o.clientSecret !== 'string' || o.clientSecret === '')
    throw new ConfigurationError(`${strategy}: clientSecret is required for the client credentials grant`, {
      strategy,
    });
  const run = openIdClient(o, strategy, () => [o.clientSecret]);
  return async (ctx) => {
    const res = await run(ctx, (c) => oidc.clientCredentialsGrant(c, grantParameters(o)));
    return { token: res.access_token, expiresIn: res.expires_in };
  };
}

export function refreshTokenSource(o: Auth0RefreshTokenOptions, strategy: string): Acquire {
  checkTenant(o, strategy);
  if (typeof o.refreshToken !== 'string' || o.refreshToken === '')
    throw new ConfigurationError(`${strategy}: refreshToken is required for the refresh-token grant`, { strategy });
  let refreshToken = o.refreshToken;
  const run = openIdClient(o, strategy, () => [o.clientSecret, refreshToken, o.refreshToken]);
  return async (ctx) => {
    const res = await run(ctx, (c) => oidc.refreshTokenGrant(c, refreshToken, grantParameters(o)));
    if (typeof res.refresh_token === 'string' && res.refresh_token !== '' && res.refresh_token !== refreshToken) {
      refreshToken = res.refresh_token;
      try {
        await o.onRefreshToken?.(refreshToken);
      } catch {
        ctx.logger.error('onRefreshToken threw; the rotated refresh token is kept in memory only', { strategy });
      }
    }
    return { token: res.access_token, expiresIn: res.expires_in };
  };
}

export function callerSource(getToken: Auth0GetToken, strategy: string): Acquire {
  if (typeof getToken !== 'function')
    throw new ConfigurationError(`${strategy}: getToken must be a function`, { strategy });
  return async (ctx, forceRefresh) => {
    let result: Auth0TokenResult;
    try {
      result = await getToken({ forceRefresh, signal: ctx.signal });
    } catch (error) {
      // Any copy of @auth/core: the caller's code may be built against another one.
      if (isAuthError(error)) throw error;
      if (error instanceof TypeError)
        throw new NetworkError(`${strategy}: getToken() failed (${error.name})`, {
          operation: 'login',
          strategy,
          cause: error,
        });
      // Auth0's SPA SDK throws `login_required` and the like: the user has to sign in again.
      const code = (error as { error?: unknown } | undefined)?.error;
      throw new CredentialsRejectedError(
        `${strategy}: getToken() failed (${typeof code === 'string' ? code : error instanceof Error ? error.name : typeof error})`,
        { strategy, cause: error },
      );
    }
    if (typeof result === 'string') return { token: result };
    const expiresIn =
      result && typeof result.expiresAt === 'number' ? Math.max(0, (result.expiresAt - ctx.now()) / 1000) : undefined;
    return { token: result?.accessToken, expiresIn };
  };
}
