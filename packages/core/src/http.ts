import {
  AbortedError,
  BadResponseError,
  ConfigurationError,
  CredentialsRejectedError,
  NetworkError,
  RateLimitedError,
  RefreshRejectedError,
  ServerError,
  TimeoutError,
  type AuthOperation,
} from './errors.js';
import { headerSecrets, redact, requestSecrets, secretsIn } from './redact.js';
import { after } from './sleep.js';

/**
 * The transport: the global `fetch`, or anything with its signature (undici's, a test double, a proxy).
 *
 * @example
 * const timed: FetchLike = async (input, init) => {
 *   const started = Date.now();
 *   try { return await fetch(input, init); } finally { metrics.observe(Date.now() - started); }
 * };
 * createAuthSession(strategy, { fetch: timed });
 */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * One auth call made by a strategy through the session's transport.
 *
 * @example
 * const request: AuthRequest = { operation: 'refresh', url: `${baseUrl}/token/refresh`, json: { refresh_token: tokens.refreshToken } };
 */
export interface AuthRequest {
  /** Which step this is: decides how 4xx answers are classified (see {@link classifyStatus}). */
  operation: AuthOperation;
  url: string | URL;
  method?: string;
  /** Sent as JSON with `Content-Type: application/json`. Every string and number in it is treated as a secret. */
  json?: unknown;
  /** Sent as `application/x-www-form-urlencoded`. Every value is treated as a secret. */
  form?: Record<string, string>;
  /**
   * Every value is treated as a secret, except those of `accept`, `content-type`, `user-agent` and a few other public
   * headers.
   */
  headers?: Record<string, string>;
  /**
   * More values to keep out of errors, in every encoding: secrets the request does not carry as
   * such (the key an HMAC signature was made with, a secret the server may know and quote). What the
   * request carries (header values, body fields, query values) is secret without being listed.
   */
  secrets?: readonly (string | undefined)[];
  /** Overrides the default classification for specific statuses. */
  statusMap?: Partial<Record<number, StatusOutcome>>;
  /** Per-call timeout; default is the session's `timeoutMs`. */
  timeoutMs?: number;
}

/**
 * How an auth endpoint's status is treated: the error class it becomes (`'ok'` for none).
 *
 * @example
 * const outcome: StatusOutcome = classifyStatus('login', 429); // 'rate-limited'
 * // an API that answers a dead refresh token with 404:
 * await http({ operation: 'refresh', url, json, statusMap: { 404: 'refresh' } });
 */
export type StatusOutcome = 'ok' | 'credentials' | 'refresh' | 'configuration' | 'server' | 'rate-limited';

/**
 * A successful auth answer with its JSON body parsed.
 *
 * @example
 * const res: AuthResponse<{ token: string }> = await http({ operation: 'login', url, json: { username, password } });
 * res.body.token;
 */
export interface AuthResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or `undefined` for an empty body. */
  body: T;
}

/**
 * The HTTP helper a strategy receives in its context: JSON in and out; any status but 2xx rejects
 * with a typed error (see {@link classifyStatus}).
 *
 * @example
 * const { body } = await ctx.http<{ token: string }>({ operation: 'login', url: `${baseUrl}/login`, json: { username, password } });
 */
export type AuthHttp = <T = unknown>(request: AuthRequest) => Promise<AuthResponse<T>>;

/**
 * Default classification of an auth endpoint's status: 401/403 on login are rejected credentials,
 * 400/401/403 on refresh a dead refresh token (the session logs in again), other 4xx a configuration
 * problem (wrong URL, unknown store), 429 rate limited, 5xx a server failure.
 *
 * @example
 * classifyStatus('login', 401); // 'credentials'
 * classifyStatus('refresh', 400); // 'refresh'
 * classifyStatus('login', 404); // 'configuration'
 */
export function classifyStatus(operation: AuthOperation, status: number): StatusOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  if (operation === 'refresh' && (status === 400 || status === 401 || status === 403)) return 'refresh';
  if (status === 401 || status === 403) return 'credentials';
  return 'configuration';
}

/**
 * Parses `Retry-After` (delta-seconds or an HTTP date) into ms from `now`; `undefined` when absent or unreadable.
 *
 * @example
 * parseRetryAfter('7'); // 7000
 * parseRetryAfter(response.headers.get('retry-after')); // number | undefined
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface HttpDeps {
  fetch: FetchLike;
  timeoutMs: number;
  strategy: string;
  signal?: AbortSignal | undefined;
  now(): number;
}

/**
 * Builds the `AuthHttp` a strategy uses: timeouts, abort, typed errors, secrets kept out of messages.
 * The session builds one for each auth call; call it yourself to test a strategy without a session.
 *
 * @example
 * const http = createAuthHttp({ fetch, timeoutMs: 5_000, strategy: 'acme', now: Date.now });
 * const tokens = await strategy.login({ http, now: Date.now, logger: silentLogger, signal: new AbortController().signal });
 */
export function createAuthHttp(deps: HttpDeps): AuthHttp {
  return async function authHttp<T>(req: AuthRequest): Promise<AuthResponse<T>> {
    const { operation } = req;
    const base = { operation, strategy: deps.strategy };
    // Everything the request carries is a secret (a server may echo any of it back), plus what the strategy marks.
    const secrets: string[] = [];
    for (const s of req.secrets ?? []) if (typeof s === 'string') secrets.push(s);
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    for (const [k, v] of Object.entries(headers)) headerSecrets(k, v, secrets);
    requestSecrets(req.url, {}, secrets);
    let body: string | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] = 'application/json';
      secretsIn(req.json, secrets);
    } else if (req.form) {
      body = new URLSearchParams(req.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
      secretsIn(req.form, secrets);
    }
    const url = String(req.url);
    const where = describeUrl(url);
    const timeoutMs = req.timeoutMs ?? deps.timeoutMs;
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    if (deps.signal?.aborted) throw new AbortedError(`${operation} aborted before it was sent`, base);
    deps.signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const cancelTimer = after(timeoutMs, () => {
      timedOut = true;
      controller.abort();
    });
    try {
      let res: Response;
      try {
        res = await deps.fetch(url, {
          method: req.method ?? (body === undefined ? 'GET' : 'POST'),
          headers,
          body,
          signal: controller.signal,
          redirect: 'manual',
        });
      } catch (cause) {
        if (timedOut)
          throw new TimeoutError(`${operation} at ${where} got no answer within ${timeoutMs} ms`, {
            ...base,
            timeoutMs,
            cause: sanitizeCause(cause, secrets),
          });
        if (deps.signal?.aborted)
          throw new AbortedError(`${operation} at ${where} was aborted`, {
            ...base,
            cause: sanitizeCause(cause, secrets),
          });
        throw new NetworkError(`${operation} at ${where} failed: ${redact(errorText(cause), secrets).slice(0, 200)}`, {
          ...base,
          cause: sanitizeCause(cause, secrets),
        });
      }
      let text: string;
      try {
        text = await res.text();
      } catch (cause) {
        if (timedOut)
          throw new TimeoutError(`${operation} at ${where} timed out while reading the answer`, {
            ...base,
            timeoutMs,
            status: res.status,
          });
        if (deps.signal?.aborted)
          throw new AbortedError(`${operation} at ${where} was aborted`, { ...base, status: res.status });
        throw new NetworkError(`${operation} at ${where}: the connection failed while reading the answer`, {
          ...base,
          status: res.status,
          cause: sanitizeCause(cause, secrets),
        });
      }
      const outcome = req.statusMap?.[res.status] ?? classifyStatus(operation, res.status);
      const detail = () => serverDetail(text, res.headers.get('content-type'), secrets);
      const withStatus = { ...base, status: res.status };
      switch (outcome) {
        case 'ok':
          break;
        case 'credentials':
          throw new CredentialsRejectedError(
            `${where} rejected the credentials (HTTP ${res.status}${detail()})`,
            withStatus,
          );
        case 'refresh':
          throw new RefreshRejectedError(
            `${where} rejected the refresh token (HTTP ${res.status}${detail()})`,
            withStatus,
          );
        case 'rate-limited': {
          const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), deps.now());
          throw new RateLimitedError(
            `${where} is rate limiting ${operation} (HTTP ${res.status}${retryAfterMs !== undefined ? `, retry after ${retryAfterMs} ms` : ''})`,
            { ...withStatus, retryAfterMs },
          );
        }
        case 'server': {
          // OpenLoyalty may answer its rate limit with 503 + Retry-After: honour it like a 429's.
          const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), deps.now());
          throw new ServerError(
            `${where} failed (HTTP ${res.status}${detail()}${retryAfterMs !== undefined ? `, retry after ${retryAfterMs} ms` : ''})`,
            { ...withStatus, retryAfterMs },
          );
        }
        case 'configuration':
          throw new ConfigurationError(
            `${where} answered ${operation} with HTTP ${res.status}${detail()}; check the base URL and options`,
            withStatus,
          );
      }
      if (text.trim() === '') return { status: res.status, headers: res.headers, body: undefined as T };
      try {
        return { status: res.status, headers: res.headers, body: JSON.parse(text) as T };
      } catch {
        const kind = /^\s*</.test(text) ? 'an HTML page' : 'malformed JSON';
        throw new BadResponseError(
          `${where} answered ${operation} with ${kind} instead of JSON (HTTP ${res.status})`,
          withStatus,
        );
      }
    } finally {
      cancelTimer();
      deps.signal?.removeEventListener('abort', onAbort);
    }
  };
}

/**
 * Origin and path only, for error messages: query strings may carry secrets (`?auth_token=`).
 *
 * @example
 * describeUrl('https://idp.example.com/token?code=x', 'the identity provider'); // 'https://idp.example.com/token'
 */
export function describeUrl(url: string, fallback = 'the auth endpoint'): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return fallback;
  }
}

function errorText(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
    return inner?.code ?? inner?.message ?? cause.message;
  }
  return String(cause);
}

/**
 * Keeps the error's type, code and scrubbed message for debugging; drops anything else that could hold request data.
 */
function sanitizeCause(cause: unknown, secrets: string[]): unknown {
  if (!(cause instanceof Error)) return undefined;
  const inner = (cause as { cause?: { code?: string } }).cause;
  // Scrub, then cut: a secret straddling the cut would otherwise keep its first part.
  const e = new Error(redact(cause.message, secrets).slice(0, 200));
  e.name = cause.name;
  if (inner?.code) (e as Error & { code?: string }).code = redact(String(inner.code), secrets);
  return e;
}

/** A short, redacted hint from the server's error body: JSON `message`/`details`, never HTML. */
function serverDetail(text: string, contentType: string | null, secrets: string[]): string {
  if (!text || /^\s*</.test(text) || (contentType && contentType.includes('html'))) return '';
  try {
    const parsed = JSON.parse(text) as { message?: unknown; details?: unknown; error?: unknown };
    const parts = [
      parsed.message,
      parsed.error,
      Array.isArray(parsed.details) ? parsed.details.join('; ') : undefined,
    ].filter((p): p is string => typeof p === 'string' && p.length > 0);
    // Scrub, then cut: a secret straddling the cut would otherwise keep its first part.
    return parts.length ? `: ${redact(parts.join(': '), secrets).slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
