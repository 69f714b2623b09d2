/**
 * Every failure the engine or a strategy reports is an {@link AuthError} with a stable `code`, so
 * `switch (err.code)` narrows. "Rejected" (credentials, refresh token) is kept apart from "broken"
 * (network, timeout, 5xx): callers ask the user again for the first and retry later for the second.
 *
 * Messages are built from statuses and fixed text only; nothing a caller sent (passwords, tokens,
 * secrets) is ever placed in a message, in `toJSON()` or in what `util.inspect` prints.
 */
export type AuthErrorCode =
  | 'CREDENTIALS_REJECTED'
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

export interface AuthErrorOptions {
  /** HTTP status of the answer that caused the error, where there was one. */
  status?: number;
  cause?: unknown;
  /** Which auth step failed. */
  operation?: AuthOperation;
  /** The strategy's name. */
  strategy?: string;
}

export type AuthOperation = 'login' | 'refresh' | 'revoke' | 'request';

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

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
    if (options.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: true, configurable: true });
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, status: this.status, operation: this.operation, strategy: this.strategy };
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

/** The server refused the credentials (wrong password, unknown user, user not allowed). Not retried. */
export class CredentialsRejectedError extends AuthError {
  constructor(message = 'The server rejected the credentials', options?: AuthErrorOptions) {
    super('CREDENTIALS_REJECTED', message, { operation: 'login', ...options });
  }
}

/** The refresh token was refused (expired, rotated away, revoked). The session falls back to a login. */
export class RefreshRejectedError extends AuthError {
  constructor(message = 'The server rejected the refresh token', options?: AuthErrorOptions) {
    super('REFRESH_REJECTED', message, { operation: 'refresh', ...options });
  }
}

/** 429 (or a limiter wait longer than allowed). `retryAfterMs` is the server's `Retry-After`, if any. */
export class RateLimitedError extends AuthError {
  readonly retryAfterMs: number | undefined;
  constructor(message = 'Rate limited by the server', options?: AuthErrorOptions & { retryAfterMs?: number }) {
    super('RATE_LIMITED', message, { status: 429, ...options });
    this.retryAfterMs = options?.retryAfterMs;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}

/** The request never got an HTTP answer (DNS, refused or reset connection). */
export class NetworkError extends AuthError {
  constructor(message = 'Network error', options?: AuthErrorOptions) {
    super('NETWORK', message, options);
  }
}

/** No answer within the configured time. */
export class TimeoutError extends AuthError {
  readonly timeoutMs: number | undefined;
  constructor(message = 'The request timed out', options?: AuthErrorOptions & { timeoutMs?: number }) {
    super('TIMEOUT', message, options);
    this.timeoutMs = options?.timeoutMs;
  }
}

/** A 5xx answer. */
export class ServerError extends AuthError {
  constructor(message = 'The server failed', options?: AuthErrorOptions) {
    super('SERVER_ERROR', message, options);
  }
}

/** An answer that is not what the protocol promises: HTML, malformed JSON, a missing token field. */
export class BadResponseError extends AuthError {
  constructor(message = 'The server sent a response that could not be understood', options?: AuthErrorOptions) {
    super('BAD_RESPONSE', message, options);
  }
}

/** The caller's `AbortSignal` fired. */
export class AbortedError extends AuthError {
  constructor(message = 'The operation was aborted', options?: AuthErrorOptions) {
    super('ABORTED', message, options);
  }
}

/** Options or server set-up that cannot work (missing username, unknown store, 400/404 on login). Not retried. */
export class ConfigurationError extends AuthError {
  constructor(message: string, options?: AuthErrorOptions) {
    super('CONFIGURATION', message, options);
  }
}

/** A fresh token was rejected again on replay; the request is not tried a third time. */
export class TokenRejectedError extends AuthError {
  constructor(message = 'The server rejected the access token', options?: AuthErrorOptions) {
    super('TOKEN_REJECTED', message, { operation: 'request', ...options });
  }
}

/** The token store failed (a third-party store threw). Stores of this project throw their own typed errors. */
export class TokenStoreError extends AuthError {
  constructor(message = 'The token store failed', options?: AuthErrorOptions) {
    super('STORE', message, options);
  }
}

/** Narrowing guard that works across copies of this package (checks the brand, not the prototype). */
export function isAuthError(value: unknown): value is AuthError {
  return value instanceof AuthError || (value instanceof Error && typeof (value as { code?: unknown }).code === 'string' && 'transient' in value && 'operation' in value);
}
