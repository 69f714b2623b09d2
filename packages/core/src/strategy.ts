import type { AuthHttp, FetchLike } from './http.js';
import type { Logger } from './logger.js';
import type { TokenSet } from './token-set.js';

/**
 * What a strategy's auth calls get from the session.
 *
 * @example
 * async function login({ http, now }: StrategyContext): Promise<TokenSet> {
 *   const { body } = await http<{ token: string; expires_in: number }>({ operation: 'login', url: tokenUrl, form: { key } });
 *   return { accessToken: body.token, expiresAt: now() + body.expires_in * 1000 };
 * }
 */
export interface StrategyContext {
  /** JSON over the session's `fetch`, with timeouts, abort and typed errors. */
  http: AuthHttp;
  /** The session's clock (ms since the epoch). */
  now(): number;
  logger: Logger;
  /** Fires when the operation is abandoned (session closed). */
  signal: AbortSignal;
  /**
   * The session's raw transport, for strategies that drive a third-party HTTP client (openid-client's
   * `customFetch`). Prefer `http`, which adds timeouts, typed errors and redaction. May be absent in
   * contexts built by hand: fall back to the global `fetch`.
   */
  fetch?: FetchLike;
  /** The session's timeout of each auth call in ms, to bound a third-party client's calls the same way. */
  timeoutMs?: number;
}

/**
 * The part of an HTTP response the engine looks at to decide whether a token was rejected. A fetch
 * `Response` fits.
 *
 * @example
 * const isTokenRejected = (res: ResponseInfo) => res.status === 401 || res.headers?.get('x-token-expired') === '1';
 */
export interface ResponseInfo {
  status: number;
  headers?: { get(name: string): string | null } | undefined;
}

/**
 * The rate limit of a strategy's auth endpoints, shared by login and refresh.
 *
 * @example
 * const rateLimit: RateLimitSpec = { key: `acme:${username}@${baseUrl}`, max: 5, windowMs: 60_000 };
 */
export interface RateLimitSpec {
  /**
   * Identifies the budget: every session in the process whose strategy declares the same key shares
   * one limiter (e.g. one per account and base URL).
   */
  key: string;
  /** Calls allowed per window. */
  max: number;
  /** Window length in ms (60 000 for "per minute"). */
  windowMs: number;
}

/**
 * A way to obtain and renew tokens for one API. A plain object is enough; no base class.
 *
 * @example
 * const strategy: Strategy = {
 *   name: 'acme',
 *   origins: ['https://api.acme.test'],
 *   async login({ http }) {
 *     const { body } = await http<{ token: string }>({ operation: 'login', url: 'https://api.acme.test/token', json: { key } });
 *     return { accessToken: body.token };
 *   },
 * };
 */
export interface Strategy {
  /** Short name used in errors, events and logs. */
  readonly name: string;
  /**
   * Origins (`https://host:port`) the tokens belong to. Adapters attach tokens only to requests for
   * these origins, so a token never reaches a third-party host.
   */
  readonly origins: readonly string[];
  /**
   * URL prefixes of the strategy's own auth endpoints. Adapters never attach tokens to, or retry,
   * requests for them.
   */
  readonly authEndpoints?: readonly string[];
  /** Identifies the token set in a shared {@link TokenStore} (account + base URL). Default: `name`. */
  readonly storeKey?: string;
  /** Limit the engine enforces on this strategy's login and refresh calls. */
  readonly rateLimit?: RateLimitSpec;
  /** Obtain a fresh token set from credentials. */
  login(ctx: StrategyContext): Promise<TokenSet>;
  /**
   * Renew with the refresh token. Throw {@link RefreshRejectedError} when the refresh token is dead:
   * the session then logs in. Omit when the API has no refresh.
   */
  refresh?(tokens: TokenSet, ctx: StrategyContext): Promise<TokenSet>;
  /** Invalidate the tokens on the server (logout). */
  revoke?(tokens: TokenSet, ctx: StrategyContext): Promise<void>;
  /** Headers that present the token. Default `Authorization: Bearer <accessToken>`. */
  authorize?(tokens: TokenSet): Record<string, string>;
  /** Whether a response means "this token was rejected" (refresh and replay). Default: status 401. */
  isTokenRejected?(response: ResponseInfo): boolean;
}

/**
 * Types a strategy object without requiring a class; returns it unchanged.
 *
 * @example
 * const strategy = defineStrategy({
 *   name: 'acme',
 *   origins: ['https://api.acme.test'],
 *   login: async () => ({ accessToken: await fetchToken() }),
 * });
 */
export function defineStrategy<S extends Strategy>(strategy: S): S {
  return strategy;
}

/**
 * The default `authorize`: `Authorization: Bearer <accessToken>`.
 *
 * @example
 * bearer({ accessToken: 'abc' }); // { authorization: 'Bearer abc' }
 */
export function bearer(tokens: TokenSet): Record<string, string> {
  return { authorization: `Bearer ${tokens.accessToken}` };
}

/**
 * The default `isTokenRejected`: status 401, and nothing else.
 *
 * @example
 * defaultIsTokenRejected({ status: 401 }); // true
 * defaultIsTokenRejected({ status: 403 }); // false
 */
export function defaultIsTokenRejected(response: ResponseInfo): boolean {
  return response.status === 401;
}
