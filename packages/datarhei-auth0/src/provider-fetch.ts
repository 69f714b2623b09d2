import {
  AbortedError,
  BadResponseError,
  ConfigurationError,
  describeUrl,
  CredentialsRejectedError,
  NetworkError,
  RateLimitedError,
  ServerError,
  TimeoutError,
  isAuthError,
  parseRetryAfter,
  redact,
  requestSecrets,
  type AuthError,
  type FetchLike,
  type StrategyContext,
} from '@auth/core';
import { ResponseBodyError, type CustomFetch } from 'openid-client';

const base = (strategy: string) => ({ operation: 'login' as const, strategy });

/** `https://host/path` of a URL, without a query string. */
const where = (url: string): string => describeUrl(url, 'the identity provider');

/**
 * openid-client's `customFetch`: the session's transport, bounded by the session's timeout and
 * close signal, with transport failures, 5xx and 429 turned into typed errors before openid-client
 * sees them (it passes them on as the `cause` of its own error, see {@link toAuthError}). Every
 * credential a request carries (its form fields, its `Authorization`) is added to `sent`, so that
 * provider texts quoting them can be scrubbed in the encoding the request used.
 */
export function providerFetch(ctx: StrategyContext, strategy: string, sent?: string[]): CustomFetch {
  const f: FetchLike = ctx.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = ctx.timeoutMs ?? 15_000;
  return async (url, init) => {
    if (sent) requestSecrets(url, init, sent);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signals = [timeout, ctx.signal, ...(init.signal ? [init.signal] : [])];
    let res: Response;
    try {
      res = await f(url, { ...init, signal: AbortSignal.any(signals) } as RequestInit);
    } catch (cause) {
      if (ctx.signal.aborted) throw new AbortedError(`the request to ${where(url)} was aborted`, base(strategy));
      if (timeout.aborted || init.signal?.aborted)
        throw new TimeoutError(`${where(url)} gave no answer within ${timeoutMs} ms`, { ...base(strategy), timeoutMs });
      throw new NetworkError(`the identity provider at ${where(url)} could not be reached (${transportCode(cause)})`, {
        ...base(strategy),
        cause: transportCode(cause),
      });
    }
    if (res.status >= 500)
      throw new ServerError(`the identity provider at ${where(url)} failed (HTTP ${res.status})`, {
        ...base(strategy),
        status: res.status,
      });
    if (res.status === 429) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), ctx.now());
      throw new RateLimitedError(`the identity provider at ${where(url)} is rate limiting token requests (HTTP 429)`, {
        ...base(strategy),
        retryAfterMs,
      });
    }
    if (init.method === 'GET' && res.status === 404 && url.includes('/.well-known/')) {
      throw new ConfigurationError(`no OpenID configuration at ${where(url)} (HTTP 404); check the issuer URL`, {
        ...base(strategy),
        status: 404,
      });
    }
    return res;
  };
}

/** `ECONNREFUSED` and the like: never the error's message, which could quote the request. */
function transportCode(cause: unknown): string {
  const inner = (cause as { cause?: { code?: unknown } } | undefined)?.cause;
  if (inner && typeof inner.code === 'string') return inner.code;
  if (cause && typeof (cause as { code?: unknown }).code === 'string') return (cause as { code: string }).code;
  return cause instanceof Error ? cause.name : 'unknown error';
}

const REJECTED = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant', 'access_denied']);

/**
 * Maps what openid-client throws to the engine's typed errors. Provider texts are redacted with
 * every secret the strategy holds (client secret, refresh token) and every credential the requests
 * carried, in every encoding, before they reach a message.
 */
export function toAuthError(error: unknown, strategy: string, secrets: readonly (string | undefined)[]): AuthError {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (isAuthError(e)) return e;
  }
  if (error instanceof ResponseBodyError) {
    // Scrub, then cut: a secret straddling the cut would otherwise keep its first part.
    const text = redact(
      `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`,
      secrets,
    ).slice(0, 240);
    const options = { ...base(strategy), status: error.status };
    if (REJECTED.has(error.error) || error.status === 401 || error.status === 403) {
      return new CredentialsRejectedError(
        `the identity provider rejected the client or grant (HTTP ${error.status}, ${text})`,
        options,
      );
    }
    return new ConfigurationError(
      `the identity provider refused the token request (HTTP ${error.status}, ${text}); check the audience, resource and scope`,
      options,
    );
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'OAUTH_HTTP_REQUEST_FORBIDDEN':
    case 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN':
      return new ConfigurationError(
        'the issuer must be an https URL (set allowInsecureRequests for a local http provider)',
        base(strategy),
      );
    case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
      return new ConfigurationError(
        'the identity provider’s metadata does not match the configured issuer (check the issuer URL, including its trailing slash)',
        base(strategy),
      );
    case 'OAUTH_TIMEOUT':
      return new TimeoutError('the identity provider gave no answer in time', base(strategy));
    case 'OAUTH_ABORT':
      return new AbortedError('the request to the identity provider was aborted', base(strategy));
    case 'OAUTH_RESPONSE_IS_NOT_CONFORM':
    case 'OAUTH_RESPONSE_IS_NOT_JSON':
    case 'OAUTH_PARSE_ERROR':
    case 'OAUTH_INVALID_RESPONSE':
    case 'OAUTH_INVALID_SERVER_METADATA':
    case 'OAUTH_MISSING_SERVER_METADATA':
      return new BadResponseError(
        `the identity provider sent an answer that is not a valid OAuth response (${code})`,
        base(strategy),
      );
  }
  if (error instanceof TypeError)
    return new NetworkError(`the identity provider could not be reached (${error.name})`, base(strategy));
  return new BadResponseError(
    `obtaining the identity provider token failed (${typeof code === 'string' ? code : error instanceof Error ? error.name : typeof error})`,
    base(strategy),
  );
}
