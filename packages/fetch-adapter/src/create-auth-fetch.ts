import { acquireSlot, rateLimitWait, toLimiter, toRetryPolicy, waitUnlessAborted, type AuthSession, type LimiterOption, type RateLimitRetryOptions, type TokenSet } from '@auth/core';
import { discard, isReplayableBody, isRequest } from './body.js';
import { withRequest } from './context.js';
import { answeredWithAuth, followRedirects, isRedirect, type RedirectChain } from './redirects.js';

/**
 * Exactly the signature of the global `fetch`.
 *
 * @example
 * const authFetch: AuthFetch = createAuthFetch(session);
 * const res = await authFetch('https://api.example.com/items', { method: 'POST', body: JSON.stringify({ a: 1 }) });
 */
export type AuthFetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/**
 * Options of {@link createAuthFetch}.
 *
 * @example
 * const options: AuthFetchOptions = {
 *   fetch: globalThis.fetch,
 *   origins: ['https://files.example.com'],
 *   limiter: { maxConcurrent: 10 },
 *   retryRateLimited: false,
 * };
 */
export interface AuthFetchOptions {
  /** The `fetch` that sends the requests. Default: the global `fetch`, looked up on every call. */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /**
   * Origins that may carry the token besides the strategy's own (`https://host:port`). Requests to
   * any other origin are passed to the base `fetch` untouched.
   */
  origins?: readonly string[];
  /** Requests for which this returns `true` are passed to the base `fetch` untouched. */
  skip?: (url: URL, init: RequestInit | undefined) => boolean;
  /**
   * Schedules the authorized requests through Bottleneck: a `Bottleneck` instance or the settings of
   * a new one, e.g. `{ maxConcurrent: 10, minTime: 50 }`. A job lasts until the response headers arrive.
   */
  limiter?: LimiterOption;
  /**
   * Retries an answer of 429 after its `Retry-After` (bounded; see {@link RateLimitRetryOptions}).
   * On by default; `false` returns every 429 to the caller.
   */
  retryRateLimited?: RateLimitRetryOptions | false;
}

/**
 * Wraps `fetch` with a session: requests to the strategy's origins carry its token; when the server
 * rejects it (the strategy's rule, by default 401) the session is told exactly which token was
 * rejected and the request is sent once more with the new token and the same body. The second
 * answer is returned whatever it is. Requests to other origins and to the strategy's own auth
 * endpoints go to the base `fetch` unchanged.
 *
 * Bodies: strings, `URLSearchParams`, `FormData`, `Blob`, `ArrayBuffer` and typed arrays are sent
 * again as they are, and a `Request`'s body is buffered before the first send. A `ReadableStream`
 * body can be read only once: it is sent once and a rejected answer is returned to the caller as is
 * (the rejection is still reported, so the next requests carry a renewed token).
 *
 * Redirects: `fetch` drops only `Authorization` (and cookies) when a redirect changes origin. A
 * request whose auth headers include any other name (say `X-AUTH-TOKEN`) is therefore sent with
 * `redirect: 'manual'` and its redirects are followed here as `fetch` follows them (at most 20, 303
 * and POST-on-301/302 become GET), each hop carrying the auth headers only when it may. Not in
 * browsers and workers, which hide a manual redirect: there the runtime follows it. A caller's own
 * `redirect` mode (`'manual'`, `'error'`) is left alone.
 *
 * Errors: the base `fetch`'s own failures (network, its `AbortError`) reach the caller unchanged. A
 * failed login or refresh rejects with the core's `AuthError` (stable `code`), carrying `request`
 * (`{ method, url }`, no headers). An `AbortSignal` that fires while the request waits for a token,
 * the limiter or a `Retry-After` rejects it at once with `code: 'ABORTED'`.
 *
 * Uses no Node built-ins: runs in browsers, Deno, Bun, workers and edge runtimes.
 *
 * @example
 * import { createAuthSession } from '@auth/core';
 * import { createAuthFetch } from '@auth/fetch-adapter';
 *
 * const session = createAuthSession(strategy);
 * const authFetch = createAuthFetch(session, { limiter: { maxConcurrent: 10 } });
 * const res = await authFetch('https://api.example.com/api/customers');
 * console.log(res.status, await res.json());
 */
export function createAuthFetch(session: AuthSession, options: AuthFetchOptions = {}): AuthFetch {
  const base: AuthFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const origins = options.origins;
  const skip = options.skip;
  const limiter = toLimiter(options.limiter);
  const retry429 = toRetryPolicy(options.retryRateLimited);

  // session.authorize() builds a header object; reuse it while the token set is the same.
  let lastTokens: TokenSet | undefined;
  let lastHeaders: [string, string][] = [];
  // fetch drops only Authorization (and cookies) on a cross-origin redirect: requests carrying any
  // other auth header follow their redirects here, so that no hop gets a token it may not carry.
  let lastCustom = false;
  const authHeaders = (tokens: TokenSet): [string, string][] => {
    if (tokens !== lastTokens) {
      lastHeaders = Object.entries(session.authorize(tokens));
      lastCustom = lastHeaders.some(([name]) => name.toLowerCase() !== 'authorization');
      lastTokens = tokens;
    }
    return lastHeaders;
  };
  const hasCustomAuth = (tokens: TokenSet): boolean => {
    authHeaders(tokens);
    return lastCustom;
  };
  // Where manual redirects come back opaque (browsers, workers) the runtime follows them; also turned
  // off for good if a runtime answers opaquely after all (that request was already processed).
  let manualRedirects = !isBrowserLike();

  /** Sends with `redirect: 'manual'` and follows the redirects itself (see redirects.ts). */
  const sendFollowing = (input: RequestInfo | URL, sendInit: RequestInit, chain: RedirectChain): Promise<Response> => {
    sendInit.redirect = 'manual';
    return base(input, sendInit).then((response) => {
      if (response.type === 'opaqueredirect') {
        manualRedirects = false;
        return response;
      }
      return isRedirect(response) ? followRedirects(response, chain) : response;
    });
  };
  const hopAuthorizer = (init: RequestInit | undefined) => (url: string) => session.mayAuthorize(url, origins) && (skip === undefined || !skip(new URL(url), init));

  /** `source` plus the auth headers (replacing any case variant of them), without mutating `source`. */
  const withAuth = (source: HeadersInit | undefined, tokens: TokenSet): HeadersInit => {
    const auth = authHeaders(tokens);
    // fetch reads any iterable (an array, a Headers of any realm or polyfill, a Map) as a list of
    // pairs, and only a non-iterable object as a record.
    if (source === undefined || source === null || typeof (source as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      // A plain record (or none): a plain object is cheaper than a Headers and fetch accepts it.
      const out: Record<string, string> = {};
      if (source) for (const key in source) if (!isAuthName(key, auth)) out[key] = (source as Record<string, string>)[key]!;
      for (let i = 0; i < auth.length; i += 1) out[auth[i]![0]] = auth[i]![1];
      return out;
    }
    const headers = new Headers(source);
    for (const [name, value] of auth) headers.set(name, value);
    return headers;
  };

  async function send(input: RequestInfo | URL, init: RequestInit | undefined, href: string, first?: { response: Response; tokens: TokenSet }): Promise<Response> {
    const request = isRequest(input) ? input : undefined;
    const signal = init?.signal ?? request?.signal;
    const opts = signal ? { signal } : undefined;
    const fail = (error: unknown) => withRequest(error, { method: (init?.method ?? request?.method ?? 'GET').toUpperCase(), url: href });

    let body: BodyInit | null | undefined = init?.body;
    let replayable = true;
    // A Blob: fetch reads a fresh stream from it for every hop it follows and for the replay (Node's
    // fetch cannot follow a 307/308 with an ArrayBuffer body: it detaches the copy it sent).
    if (body === undefined && request?.body) body = await request.blob();
    else if (body !== undefined && body !== null) replayable = isReplayableBody(body);
    const sourceHeaders = init?.headers ?? request?.headers;
    const follows = (init?.redirect ?? request?.redirect ?? 'follow') === 'follow';

    const once = (tokens: TokenSet): Promise<Response> => {
      const headers = withAuth(sourceHeaders, tokens);
      const sendInit: RequestInit = body === init?.body ? { ...init, headers } : { ...init, headers, body };
      const chain: RedirectChain | undefined =
        lastCustom && manualRedirects && follows
          ? { fetch: base, init, url: href, method: init?.method ?? request?.method ?? 'GET', body, replayable, headers: sourceHeaders, signal, auth: lastHeaders, authorizes: hopAuthorizer(init) }
          : undefined;
      const go = () => (chain ? sendFollowing(input, sendInit, chain) : base(input, sendInit));
      return limiter ? acquireSlot(limiter, signal).then((release) => go().finally(release)) : go();
    };

    let tokens: TokenSet;
    try {
      tokens = first?.tokens ?? session.peekToken() ?? (await session.getToken(opts));
    } catch (error) {
      throw fail(error);
    }
    let replayed = false;
    let pending = first?.response;
    for (let retries = 0; ; ) {
      let response: Response;
      if (pending) {
        response = pending;
        pending = undefined;
      } else {
        try {
          response = await once(tokens);
        } catch (error) {
          throw fail(error);
        }
      }
      if (!replayable) {
        // Sent once (a stream body): the caller gets this answer, the next requests a renewed token.
        if (!replayed && session.isTokenRejected(response) && cameWithAuth(response)) session.tokenRejected(tokens.accessToken).catch(() => {});
        return response;
      }
      // An answer from where a redirect led without the token: handed back as it is.
      if (!cameWithAuth(response)) return response;
      try {
        if (!replayed && session.isTokenRejected(response)) {
          replayed = true;
          discard(response);
          tokens = await session.tokenRejected(tokens.accessToken, opts);
          continue;
        }
        if (response.status === 429 && retry429 && retries < retry429.retries) {
          const wait = rateLimitWait(retry429, response.headers.get('retry-after'));
          if (wait !== undefined) {
            retries += 1;
            discard(response);
            await waitUnlessAborted(wait, signal);
            tokens = await session.getToken(opts);
            continue;
          }
        }
      } catch (error) {
        throw fail(error);
      }
      return response;
    }
  }

  /** The hot path of a request whose redirects are followed here. */
  function sendAtOnceFollowing(input: RequestInfo | URL, init: RequestInit | undefined, href: string, tokens: TokenSet): Promise<Response> {
    const sendInit: RequestInit = { ...init, headers: withAuth(init?.headers, tokens) };
    const chain: RedirectChain = { fetch: base, init, url: href, method: init?.method ?? 'GET', body: init?.body, replayable: true, headers: init?.headers, signal: init?.signal, auth: lastHeaders, authorizes: hopAuthorizer(init) };
    return sendFollowing(input, sendInit, chain).then((response) => (needsFollowUp(response) ? send(input, init, href, { response, tokens }) : response));
  }

  // Whether an answer needs more than handing back: the token was rejected (by the strategy's rule;
  // the default one reads the status once) or a 429 is to be waited out, by an origin that got the token.
  const needsFollowUp: (response: Response) => boolean =
    session.strategy.isTokenRejected === undefined
      ? retry429
        ? (response) => {
            const status = response.status;
            return (status === 401 || status === 429) && cameWithAuth(response);
          }
        : (response) => response.status === 401 && cameWithAuth(response)
      : (response) => ((response.status === 429 && retry429 !== undefined) || session.isTokenRejected(response)) && cameWithAuth(response);

  /**
   * Whether the answer came from a hop that carried the token: one not redirected, or the end of a
   * chain followed here with the token on every hop. Redirects the runtime followed (a Bearer token,
   * browsers) may have left the API and come back without it (fetch drops Authorization across
   * origins and never puts it back): their 401 must not spend a renewal, nor their 429 a wait.
   */
  function cameWithAuth(response: Response): boolean {
    return !response.redirected || answeredWithAuth.has(response);
  }

  return function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const href = targetHref(input);
    if (href === undefined || !session.mayAuthorize(href, origins)) return base(input, init);
    if (skip !== undefined && skip(new URL(href), init)) return base(input, init);
    // Hot path: a valid cached token, a plain (non-Request) input, a body that can be sent again and
    // no limiter: send at once, without an async frame; only a rejected or rate-limited answer goes
    // on to the full path (replay, Retry-After).
    const tokens = limiter === undefined && (typeof input === 'string' || !isRequest(input)) ? session.peekToken() : undefined;
    if (tokens !== undefined && !init?.signal?.aborted && (init?.body === undefined || init.body === null || isReplayableBody(init.body))) {
      if (manualRedirects && hasCustomAuth(tokens) && (init?.redirect === undefined || init.redirect === 'follow')) return sendAtOnceFollowing(input, init, href, tokens);
      return base(input, init === undefined ? { headers: withAuth(undefined, tokens) } : { ...init, headers: withAuth(init.headers, tokens) }).then((response) =>
        needsFollowUp(response) ? send(input, init, href, { response, tokens }) : response,
      );
    }
    return send(input, init, href);
  };
}

/**
 * Browsers and workers answer `redirect: 'manual'` with an opaque redirect (status 0, no `Location`),
 * after the server has processed the request: a redirect cannot be followed from there.
 */
function isBrowserLike(): boolean {
  return typeof document !== 'undefined' || typeof (globalThis as { importScripts?: unknown }).importScripts === 'function';
}

/**
 * The absolute URL a fetch goes to, as a string (so the session's per-URL decision is reused);
 * relative ones resolve as `fetch` does: against the document's base URL (a `<base href>` may point
 * to another origin), in a worker against its location.
 */
function targetHref(input: RequestInfo | URL): string | undefined {
  const href = typeof input === 'string' ? input : input instanceof URL ? input.href : (input as { url?: unknown }).url;
  if (typeof href !== 'string') return undefined;
  if (href.startsWith('https://') || href.startsWith('http://') || /^[a-z][a-z\d+\-.]*:\/\//i.test(href)) return href;
  try {
    const base = typeof document !== 'undefined' && typeof document.baseURI === 'string' ? document.baseURI : typeof location === 'undefined' ? undefined : location.href;
    return new URL(href, base).href;
  } catch {
    return undefined;
  }
}

function isAuthName(key: string, auth: [string, string][]): boolean {
  const lower = key.toLowerCase();
  for (const [name] of auth) if (name.toLowerCase() === lower) return true;
  return false;
}
