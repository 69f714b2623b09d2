import { absoluteUrl, hidesManualRedirects, replayableBody, RequestFlow, withContext } from '@auth/core';
import type { AuthHeaders, AuthSession, LimiterOption, RateLimitRetryOptions, TokenSet } from '@auth/core';
import { discard, followRedirects, isRedirect, type RedirectChain } from './redirects.js';

/**
 * What an auth error says about the request it stopped: no headers, no body.
 *
 * @example
 * try {
 *   await authFetch(url);
 * } catch (error) {
 *   if (isAuthError(error)) console.error(error.code, (error as AuthError & { request?: RequestContext }).request?.url);
 * }
 */
export interface RequestContext {
  method: string;
  url: string;
}

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
 * browsers and Web Workers, which hide a manual redirect: there the runtime follows it. A caller's own
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
  const skip = options.skip;
  const flow = new RequestFlow(session, options);
  const optedOut = (href: string, init: RequestInit | undefined) => skip && (() => skip(new URL(href), init));
  // fetch drops only Authorization (and cookies) on a cross-origin redirect: requests carrying any
  // other auth header follow their redirects here, so that no hop gets a token it may not carry.
  // Not where manual redirects come back opaque (browsers, Web Workers); also turned off for good if a
  // runtime answers opaquely after all (that request was already processed).
  let manualRedirects = !hidesManualRedirects();
  const followsHere = (auth: AuthHeaders, mode: RequestRedirect | undefined) =>
    auth.custom && manualRedirects && (mode === undefined || mode === 'follow');

  /** One send with `tokens`; redirects followed here (see redirects.ts) or by the runtime. */
  const sendOnce = (
    input: RequestInfo | URL,
    chain: RedirectChain,
    mode: RequestRedirect | undefined,
    tokens: TokenSet,
  ): Promise<Response> => {
    const { run, init, body } = chain;
    const auth = run.use(tokens);
    const sendInit: RequestInit = { ...init, headers: withAuth(chain.headers, auth) };
    if (body !== init?.body) sendInit.body = body;
    // Redirects the runtime follows are out of our sight: the run's verdict reads `response.redirected`.
    if (!followsHere(auth, mode)) return base(input, sendInit);
    sendInit.redirect = 'manual';
    return base(input, sendInit).then((response) => followManual(response, chain));
  };

  /** The answer to a send with `redirect: 'manual'`: its redirects followed here, an opaque one as it is. */
  const followManual = (response: Response, chain: RedirectChain): Response | Promise<Response> => {
    if (response.type !== 'opaqueredirect') return isRedirect(response) ? followRedirects(response, chain) : response;
    manualRedirects = false; // This runtime hides them after all: it follows from now on.
    return response;
  };

  /**
   * The full flow: the core's request loop over `sendOnce`. `answer` is the hot path's answer to a
   * send with `tokens`, judged first.
   */
  async function send(
    input: RequestInfo | URL,
    init: RequestInit | undefined,
    href: string,
    tokens?: TokenSet,
    answer?: Response,
  ): Promise<Response> {
    const request = isRequest(input) ? input : undefined;
    const method = init?.method ?? request?.method ?? 'GET';
    const signal = init?.signal ?? request?.signal;
    // As fetch does: an already aborted signal rejects with its reason (an AbortError), nothing (more) sent.
    if (signal?.aborted) {
      if (answer !== undefined) discard(answer);
      throw signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
    }
    try {
      // A Request's body as a Blob: fetch reads a fresh stream from it for every hop it follows and
      // for the replay (Node's fetch cannot follow a 307/308 with an ArrayBuffer body: it detaches the copy it sent).
      const body = init?.body === undefined && request?.body ? await request.blob() : init?.body;
      const run = flow.start({ signal, replayable: replayableBody(body) });
      const headers = init?.headers ?? request?.headers;
      const chain: RedirectChain = {
        fetch: base,
        init,
        url: href,
        method,
        body,
        headers,
        run,
        optedOut: (url) => optedOut(url, init),
      };
      const mode = init?.redirect ?? request?.redirect;
      if (tokens !== undefined) run.use(tokens);
      // The hot path's answer to a send with `redirect: 'manual'` of ours may be a redirect to follow first.
      if (answer !== undefined && (mode === undefined || mode === 'follow')) answer = await followManual(answer, chain);
      return await run.perform((fresh) => sendOnce(input, chain, mode, fresh), discard, answer);
    } catch (error) {
      throw withContext(error, { request: { method: method.toUpperCase(), url: href } satisfies RequestContext });
    }
  }

  /**
   * The hot path's tokens: a valid cached token for a plain (non-Request) input with a body that can
   * be sent again, and no limiter. Such a request is sent at once, without an async frame; only an
   * answer that may need a verdict, or a redirect to follow here, goes on to the full flow.
   */
  function atOnce(input: RequestInfo | URL, init: RequestInit | undefined): TokenSet | undefined {
    if (flow.limiter !== undefined || (typeof input !== 'string' && isRequest(input)) || init?.signal?.aborted)
      return undefined;
    return replayableBody(init?.body) ? session.peekToken() : undefined;
  }

  return function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const href = absoluteUrl(
      typeof input === 'string' || input instanceof URL ? input : (input as { url?: unknown }).url,
    );
    if (href === undefined || !flow.claims(href, optedOut(href, init))) return base(input, init);
    const tokens = atOnce(input, init);
    if (tokens === undefined) return send(input, init, href);
    const auth = flow.headers(tokens);
    const headers = withAuth(init?.headers, auth);
    const sendInit: RequestInit = init === undefined ? { headers } : { ...init, headers };
    const manual = followsHere(auth, init?.redirect);
    if (manual) sendInit.redirect = 'manual';
    return base(input, sendInit).then((response) =>
      flow.mayNeedVerdict(response) || (manual && (isRedirect(response) || response.type === 'opaqueredirect'))
        ? send(input, init, href, tokens, response)
        : response,
    );
  };
}

/** `source` plus the auth headers (replacing any case variant of them), without mutating `source`. */
function withAuth(source: HeadersInit | undefined, auth: AuthHeaders): HeadersInit {
  const pairs = auth.pairs;
  // fetch reads any iterable (an array, a Headers of any realm or polyfill, a Map) as a list of
  // pairs, and only a non-iterable object as a record.
  if (
    source === undefined ||
    source === null ||
    typeof (source as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function'
  ) {
    // A plain record (or none): a plain object is cheaper than a Headers and fetch accepts it.
    const out: Record<string, string> = {};
    if (source)
      for (const key in source) if (!isAuthName(key, pairs)) out[key] = (source as Record<string, string>)[key]!;
    for (let i = 0; i < pairs.length; i += 1) out[pairs[i]![0]] = pairs[i]![1];
    return out;
  }
  const headers = new Headers(source);
  for (const [name, value] of pairs) headers.set(name, value);
  return headers;
}

function isAuthName(key: string, auth: AuthHeaders['pairs']): boolean {
  const lower = key.toLowerCase();
  for (const [name] of auth) if (name.toLowerCase() === lower) return true;
  return false;
}

function isRequest(input: unknown): input is Request {
  return typeof Request !== 'undefined' && input instanceof Request;
}
