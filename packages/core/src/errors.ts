/**
 * Every failure the engine or a strategy reports is an {@link AuthError} with a stable `code`, so
 * `switch (err.code)` narrows. "Rejected" (credentials, refresh token) is kept apart from "broken"
 * (network, timeout, 5xx): callers ask the user again for the first and retry later for the second.
 *
 * Messages are built from statuses and fixed text only; nothing a caller sent (passwords, tokens,
 * secrets) is ever placed in a message, in `toJSON()` or in what `util.inspect` prints.
 *
 * @example
 * const code: AuthErrorCode = 'RATE_LIMITED';
 */
export type AuthErrorCode =
  | 'CREDENTIALS_REJECTED'
  | 'CREDENTIALS_REQUIRED'
  | 'REFRESH_REJECTED'
  | 'RATE_LIMITED'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'SERVER_ERROR'
  | 'BAD_RESPONSE'
  | 'ABORTED'
  | 'CONFIGURATION'
  | 'TOKEN_REJECTED'
  | 'STORE';

/**
 * What an error knows besides its message; every field optional.
 *
 * @example
 * throw new ServerError('the token endpoint failed', { status: 503, operation: 'refresh', strategy: 'acme' });
 */
export interface AuthErrorOptions {
  /** HTTP status of the answer that caused the error, where there was one. */
  status?: number;
  cause?: unknown;
  /** Which auth step failed. */
  operation?: AuthOperation;
  /** The strategy's name. */
  strategy?: string;
}

/**
 * The step that failed: a strategy's `login`, `refresh` or `revoke`, or an API `request` an adapter sent.
 *
 * @example
 * const op: AuthOperation = 'refresh';
 */
export type AuthOperation = 'login' | 'refresh' | 'revoke' | 'request';

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');
/**
 * Marks errors of every copy of this package (its ESM and CJS builds in one process, two installed
 * versions, another realm): `Symbol.for` keys are shared process-wide, prototypes are not.
 */
const brand: unique symbol = Symbol.for('@auth/core.AuthError') as never;

/**
 * The base of every error the engine, the strategies and the adapters reject with. Prefer a subclass
 * over constructing this directly. Test for it with {@link isAuthError}, which narrows `code` and,
 * unlike `instanceof`, recognises errors of another copy of this package.
 *
 * @example
 * try {
 *   await session.getToken();
 * } catch (error) {
 *   if (isAuthError(error) && error.transient) scheduleRetry();
 * }
 */
export class AuthError extends Error {
  readonly code: AuthErrorCode;
  readonly status: number | undefined;
  readonly operation: AuthOperation | undefined;
  readonly strategy: string | undefined;
  /** True when trying again later may succeed (network, timeout, 5xx, 429). */
  readonly transient: boolean;

  constructor(code: AuthErrorCode, message: string, options: AuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.operation = options.operation;
    this.strategy = options.strategy;
    this.transient = code === 'NETWORK' || code === 'TIMEOUT' || code === 'SERVER_ERROR' || code === 'RATE_LIMITED';
    // `cause` may come from a transport and is kept for debugging, but not enumerable so that
    // loggers that serialise own properties do not walk into it.
    if (options.cause !== undefined)
      Object.defineProperty(this, 'cause', {
        value: options.cause,
        enumerable: false,
        writable: true,
        configurable: true,
      });
  }

  /** The brand {@link isAuthError} checks (on the prototype: not an own property, not serialised). */
  get [brand](): true {
    return true;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      operation: this.operation,
      strategy: this.strategy,
    };
  }

  [inspectSymbol](): string {
    const json = this.toJSON();
    const fields = Object.entries(json)
      .filter(([k, v]) => v !== undefined && k !== 'name' && k !== 'message')
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join(', ');
    return `${this.name}: ${this.message}${fields ? ` { ${fields} }` : ''}\n${(this.stack ?? '').split('\n').slice(1).join('\n')}`;
  }
}

/**
 * The server refused the credentials (wrong password, unknown user, user not allowed). Not retried. `code` is
 * `'CREDENTIALS_REJECTED'`.
 *
 * @example
 * throw new CredentialsRejectedError('acme rejected the API key', { status: 401, strategy: 'acme' });
 */
export class CredentialsRejectedError extends AuthError {
  declare readonly code: 'CREDENTIALS_REJECTED';
  constructor(message = 'The server rejected the credentials', options?: AuthErrorOptions) {
    super('CREDENTIALS_REJECTED', message, { operation: 'login', ...options });
  }
}

/**
 * A login is needed (no tokens, or a dead refresh token) and the app gave no credentials: its
 * `credentials` callback rejected or resolved nothing (the user cancelled the form). Not retried; the
 * next request that needs a login asks again. `code` is `'CREDENTIALS_REQUIRED'`.
 *
 * @example
 * if (isAuthError(error) && error.code === 'CREDENTIALS_REQUIRED') showLoginPage();
 */
export class CredentialsRequiredError extends AuthError {
  declare readonly code: 'CREDENTIALS_REQUIRED';
  constructor(message = 'A login is needed and no credentials were given', options?: AuthErrorOptions) {
    super('CREDENTIALS_REQUIRED', message, { operation: 'login', ...options });
  }
}

/**
 * The refresh token was refused (expired, rotated away, revoked). The session falls back to a login. `code` is
 * `'REFRESH_REJECTED'`.
 *
 * @example
 * // in a strategy's refresh(): the session then calls login()
 * throw new RefreshRejectedError(undefined, { status: 400, strategy: 'acme' });
 */
export class RefreshRejectedError extends AuthError {
  declare readonly code: 'REFRESH_REJECTED';
  constructor(message = 'The server rejected the refresh token', options?: AuthErrorOptions) {
    super('REFRESH_REJECTED', message, { operation: 'refresh', ...options });
  }
}

/**
 * 429 (or a limiter wait longer than allowed). `retryAfterMs` is the server's `Retry-After`, if any. `code` is
 * `'RATE_LIMITED'`.
 *
 * @example
 * throw new RateLimitedError(undefined, { retryAfterMs: 30_000 }); // status 429 by default
 */
export class RateLimitedError extends AuthError {
  declare readonly code: 'RATE_LIMITED';
  readonly retryAfterMs: number | undefined;
  constructor(message = 'Rate limited by the server', options?: AuthErrorOptions & { retryAfterMs?: number }) {
    super('RATE_LIMITED', message, { status: 429, ...options });
    this.retryAfterMs = options?.retryAfterMs;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}

/**
 * The request never got an HTTP answer (DNS, refused or reset connection). `code` is `'NETWORK'`.
 *
 * @example
 * throw new NetworkError('login at https://api.acme.test/token failed: ECONNRESET', { operation: 'login' });
 */
export class NetworkError extends AuthError {
  declare readonly code: 'NETWORK';
  constructor(message = 'Network error', options?: AuthErrorOptions) {
    super('NETWORK', message, options);
  }
}

/**
 * No answer within the configured time. `code` is `'TIMEOUT'`.
 *
 * @example
 * throw new TimeoutError(undefined, { operation: 'login', timeoutMs: 15_000 });
 */
export class TimeoutError extends AuthError {
  declare readonly code: 'TIMEOUT';
  readonly timeoutMs: number | undefined;
  constructor(message = 'The request timed out', options?: AuthErrorOptions & { timeoutMs?: number }) {
    super('TIMEOUT', message, options);
    this.timeoutMs = options?.timeoutMs;
  }
}

/**
 * A 5xx answer. `code` is `'SERVER_ERROR'`.
 *
 * @example
 * throw new ServerError(undefined, { status: 503, operation: 'refresh' });
 */
export class ServerError extends AuthError {
  declare readonly code: 'SERVER_ERROR';
  /** The server's `Retry-After` (a 503 from an overloaded or rate-limiting front end), if any. */
  readonly retryAfterMs: number | undefined;
  constructor(message = 'The server failed', options?: AuthErrorOptions & { retryAfterMs?: number }) {
    super('SERVER_ERROR', message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}

/**
 * An answer that is not what the protocol promises: HTML, malformed JSON, a missing token field. `code` is
 * `'BAD_RESPONSE'`.
 *
 * @example
 * if (typeof body.token !== 'string') throw new BadResponseError('login returned no token', { operation: 'login' });
 */
export class BadResponseError extends AuthError {
  declare readonly code: 'BAD_RESPONSE';
  constructor(message = 'The server sent a response that could not be understood', options?: AuthErrorOptions) {
    super('BAD_RESPONSE', message, options);
  }
}

/**
 * The caller's `AbortSignal` fired. `code` is `'ABORTED'`.
 *
 * @example
 * if (signal.aborted) throw new AbortedError();
 */
export class AbortedError extends AuthError {
  declare readonly code: 'ABORTED';
  constructor(message = 'The operation was aborted', options?: AuthErrorOptions) {
    super('ABORTED', message, options);
  }
}

/**
 * Options or server set-up that cannot work (missing username, unknown store, 400/404 on login). Not retried. `code` is
 * `'CONFIGURATION'`.
 *
 * @example
 * if (!options.username) throw new ConfigurationError('acme: username is required');
 */
export class ConfigurationError extends AuthError {
  declare readonly code: 'CONFIGURATION';
  constructor(message: string, options?: AuthErrorOptions) {
    super('CONFIGURATION', message, options);
  }
}

/**
 * A fresh token was rejected again on replay; the request is not tried a third time. `code` is `'TOKEN_REJECTED'`.
 *
 * @example
 * throw new TokenRejectedError(undefined, { status: 401, strategy: 'acme' });
 */
export class TokenRejectedError extends AuthError {
  declare readonly code: 'TOKEN_REJECTED';
  constructor(message = 'The server rejected the access token', options?: AuthErrorOptions) {
    super('TOKEN_REJECTED', message, { operation: 'request', ...options });
  }
}

/**
 * The token store failed (a third-party store threw). Stores of this project throw their own typed errors. `code` is
 * `'STORE'`.
 *
 * @example
 * throw new TokenStoreError('the token store failed to read the tokens', { cause: error });
 */
export class TokenStoreError extends AuthError {
  declare readonly code: 'STORE';
  constructor(message = 'The token store failed', options?: AuthErrorOptions) {
    super('STORE', message, options);
  }
}

/**
 * Every concrete error, as a union discriminated by `code`: after {@link isAuthError}, `switch (error.code)`
 * narrows to the class, so `case 'RATE_LIMITED':` can read `retryAfterMs` without a cast. (A base
 * `AuthError` built directly is typed as the class of its code; fields it lacks read as `undefined`,
 * which their types allow.)
 *
 * @example
 * function describe(error: KnownAuthError): string {
 *   switch (error.code) {
 *     case 'RATE_LIMITED':
 *       return `retry in ${error.retryAfterMs ?? 'a while'} ms`;
 *     case 'TIMEOUT':
 *       return `no answer within ${error.timeoutMs} ms`;
 *     default:
 *       return error.message;
 *   }
 * }
 */
export type KnownAuthError =
  | CredentialsRejectedError
  | CredentialsRequiredError
  | RefreshRejectedError
  | RateLimitedError
  | NetworkError
  | TimeoutError
  | ServerError
  | BadResponseError
  | AbortedError
  | ConfigurationError
  | TokenRejectedError
  | TokenStoreError;

/**
 * Narrowing guard that works across copies of this package (checks the brand, not the prototype):
 * the engine, the strategies and the adapters use it wherever they test for their errors, so that an
 * error thrown by code built against another copy keeps its meaning (a `REFRESH_REJECTED` still
 * leads to a login). Narrows to {@link KnownAuthError}, so `switch (error.code)` narrows further to the class.
 *
 * @example
 * try {
 *   await session.getToken();
 * } catch (error) {
 *   if (isAuthError(error) && error.code === 'RATE_LIMITED') console.warn('retry after', error.retryAfterMs);
 *   else throw error;
 * }
 */
export function isAuthError(value: unknown): value is KnownAuthError {
  if (value instanceof AuthError) return true;
  if (typeof value !== 'object' || value === null || typeof (value as { code?: unknown }).code !== 'string')
    return false;
  if ((value as { [brand]?: unknown })[brand] === true) return true;
  // A copy from before the brand (0.1.0): its errors' shape.
  return value instanceof Error && 'transient' in value && 'operation' in value;
}

/**
 * A copy of an auth error (the same class and `code`) with `context` attached as non-enumerable
 * properties; any other value as it is. The session hands one error object to every caller that
 * shared a renewal, so an adapter never mutates it.
 *
 * @example
 * throw withContext(error, { request: { method: 'GET', url } });
 */
export function withContext(error: unknown, context: Record<string, unknown>): unknown {
  if (!isAuthError(error)) return error;
  const copy = Object.create(Object.getPrototypeOf(error) as object, Object.getOwnPropertyDescriptors(error)) as object;
  for (const [k, v] of Object.entries(context))
    Object.defineProperty(copy, k, { value: v, enumerable: false, writable: true, configurable: true });
  return copy;
}
