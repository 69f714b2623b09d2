import { TimeoutError } from './errors.js';
import {
  acquireSlot,
  rateLimitWait,
  toLimiter,
  toRetryPolicy,
  waitUnlessAborted,
  type LimiterOption,
  type RateLimitRetryOptions,
  type RequestLimiter,
  type RetryPolicy,
} from './request-pacing.js';
import type { AuthSession } from './session.js';
import { after } from './sleep.js';
import type { ResponseInfo } from './strategy.js';
import type { TokenSet } from './token-set.js';

// The per-request decisions of the HTTP adapters, written once: whether a request is ours, the auth
// headers of a token set, whether an answer came through hops that all carried the token, whether
// its body can be sent again, what to do with an answer, and how long the adapter's own waits may
// last. The adapters only translate their host's request and answer objects.

/**
 * Options of {@link RequestFlow} (the adapters' shared options).
 *
 * @example
 * const flow = new RequestFlow(session, { origins: ['https://files.example.com'], retryRateLimited: { retries: 1 } });
 */
export interface RequestFlowOptions {
  /** Origins that may carry the token besides the strategy's own. */
  origins?: readonly string[];
  /** Schedules the authorized requests (see {@link toLimiter}). */
  limiter?: LimiterOption;
  /** Retries an answer of 429 after its `Retry-After`; `false` hands every 429 back. */
  retryRateLimited?: RateLimitRetryOptions | false;
}

/**
 * The auth headers of one token set, worked out once per token set.
 *
 * @example
 * const { pairs, custom } = flow.headers(tokens); // custom: a header other than Authorization carries the token
 */
export interface AuthHeaders {
  readonly pairs: readonly (readonly [string, string])[];
  readonly names: readonly string[];
  /** The names are lower case and the values need no sanitizing: a host may assign them directly. */
  readonly clean: boolean;
  /** A header other than `Authorization` carries the credentials (which runtimes keep on any redirect). */
  readonly custom: boolean;
}

const NO_HEADERS: AuthHeaders = { pairs: [], names: [], clean: true, custom: false };

/**
 * What to do with an answer: hand it back; hand it back but report its rejected token (a body that
 * cannot be sent again); replay once with a renewed token; wait out a 429 and send again; or give
 * up (a `Retry-After` the request's timeout cannot cover).
 *
 * @example
 * const verdict = run.verdict(response);
 * if (verdict.kind === 'replay') await run.proceed(verdict);
 */
export type Verdict =
  | { readonly kind: 'hand-back' }
  | { readonly kind: 'report' }
  | { readonly kind: 'replay' }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'give-up'; readonly error: unknown };

const HAND_BACK: Verdict = { kind: 'hand-back' };
const REPORT: Verdict = { kind: 'report' };
const REPLAY: Verdict = { kind: 'replay' };

/**
 * One adapter's request policy: a session, the extra origins, the limiter and the 429 policy.
 *
 * @example
 * const flow = new RequestFlow(session, {});
 * if (flow.claims(url)) {
 *   const run = flow.start({ signal });
 *   const tokens = run.ready() ?? (await run.waitForToken());
 * }
 */
export class RequestFlow {
  readonly session: AuthSession;
  readonly origins: readonly string[] | undefined;
  readonly limiter: RequestLimiter | undefined;
  readonly retry: RetryPolicy | undefined;
  #lastTokens: TokenSet | undefined;
  #lastAuth = NO_HEADERS;
  // Header values set for the latest token sets, so that a host object reused for another origin
  // loses them even after a renewal (bounded: tokens older than this many renewals have expired).
  readonly #applied = new Set<string>();
  readonly #appliedNames = new Set<string>();

  constructor(session: AuthSession, options: RequestFlowOptions = {}) {
    this.session = session;
    this.origins = options.origins;
    this.limiter = toLimiter(options.limiter);
    this.retry = toRetryPolicy(options.retryRateLimited);
  }

  /** Whether a request to `url` is ours: it may carry the token and `optedOut` (the host's opt-outs) says no. */
  claims(url: string | undefined, optedOut?: () => boolean): boolean {
    return url !== undefined && this.session.mayAuthorize(url, this.origins) && (optedOut === undefined || !optedOut());
  }

  /** The auth headers of `tokens` (`session.authorize`), reused while the token set is the same. */
  headers(tokens: TokenSet): AuthHeaders {
    if (tokens === this.#lastTokens) return this.#lastAuth;
    const pairs = Object.entries(this.session.authorize(tokens));
    const clean = pairs.every(
      ([name, value]) =>
        name === name.toLowerCase() &&
        /^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) &&
        /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value),
    );
    this.#lastAuth = {
      pairs,
      names: pairs.map(([name]) => name),
      clean,
      custom: pairs.some(([name]) => name.toLowerCase() !== 'authorization'),
    };
    this.#lastTokens = tokens;
    for (const [name, value] of pairs) {
      this.#appliedNames.add(name);
      this.#applied.add(value);
      if (this.#applied.size > 16) this.#applied.delete(this.#applied.values().next().value!);
    }
    return this.#lastAuth;
  }

  /** Every header name this flow has set a token under. */
  get appliedNames(): ReadonlySet<string> {
    return this.#appliedNames;
  }

  /** Whether `value` is an auth header value this flow has set (of one of the latest token sets). */
  isApplied(value: unknown): boolean {
    return typeof value === 'string' && this.#applied.has(value);
  }

  /**
   * The hot path's one check, for an answer to a request sent at once with a cached token and no
   * run: whether it may need a verdict (the token rejected, or a 429 to wait out) rather than being
   * handed back. An answer the runtime reached through redirects never does (see {@link RequestRun.hop}).
   */
  mayNeedVerdict(response: ResponseInfo & { redirected?: boolean }): boolean {
    // The status first: most answers are a plain 200, and a host's getters (undici's) are not free.
    const status = response.status;
    const flagged =
      (status === 429 && this.retry !== undefined) ||
      (this.session.strategy.isTokenRejected === undefined ? status === 401 : this.session.isTokenRejected(response));
    return flagged && response.redirected !== true;
  }

  /** The state of one request, from its first send to its answer. */
  start(options: RunOptions = {}): RequestRun {
    return new RequestRun(this, options);
  }
}

/**
 * What a {@link RequestRun} knows of its request.
 *
 * @example
 * flow.start({ signal, timeoutMs: 5_000, replayable: true, timedOut: (error: TimeoutError) => new Error(error.message, { cause: error }) });
 */
export interface RunOptions {
  signal?: AbortSignal | null;
  /** The request's own timeout: the adapter's waits before each send share it (0 or none: no limit). */
  timeoutMs?: number;
  /** Whether the body can be sent again (not a stream). Default `true`. */
  replayable?: boolean;
  /** The host's error for a wait that ran out of the timeout, given the core's `TimeoutError` (the default). */
  timedOut?: (error: TimeoutError, what: string) => unknown;
}

/**
 * The state of one request: the token it carries (never printed: `toJSON` leaves it out), whether it was
 * replayed and how many 429s it waited out, and whether every hop of the current send carried the token.
 */
export class RequestRun {
  readonly #flow: RequestFlow;
  #options: RunOptions;
  #token = '';
  #next: TokenSet | undefined;
  #auth: AuthHeaders = NO_HEADERS;
  #replayed = false;
  #retries = 0;
  #carrying = true;
  /** The host reported a hop of the current send (it follows redirects itself). */
  #hopped = false;

  constructor(flow: RequestFlow, options: RunOptions) {
    this.#flow = flow;
    this.#options = options;
  }

  /** A host that rebuilds its request object for a re-send (axios merges a new config) reads it again. */
  reread(options: RunOptions): void {
    this.#options = options;
  }

  /** The auth headers of the current send. */
  get auth(): AuthHeaders {
    return this.#auth;
  }

  /** Whether the request was replayed after a rejected token (once at most). */
  get replayed(): boolean {
    return this.#replayed;
  }

  /** How many 429 answers it waited out. */
  get retries(): number {
    return this.#retries;
  }

  /** Every hop of the current send may carry the token (once one may not, no later hop does). */
  get carrying(): boolean {
    return this.#carrying;
  }

  get signal(): AbortSignal | undefined {
    return this.#options.signal ?? undefined;
  }

  /** The access token of the current send: for the host's scrubbing of its own errors, never printed. */
  get token(): string {
    return this.#token;
  }

  get replayable(): boolean {
    return this.#options.replayable !== false;
  }

  /** Tokens to send with at once, without waiting (the renewed ones after a replay, or the cached ones). */
  ready(): TokenSet | undefined {
    if (this.signal?.aborted) return undefined;
    return this.#next ?? this.#flow.session.peekToken();
  }

  /** Waits for a token within what is left, since `started`, of the timeout. */
  waitForToken(started?: number): Promise<TokenSet> {
    const next = this.#next;
    if (next !== undefined && !this.signal?.aborted) return Promise.resolve(next);
    return this.within('waiting for a token', (signal) => this.#flow.session.getToken(signal && { signal }), started);
  }

  /** The tokens this send carries: their headers, and a new redirect chain. */
  use(tokens: TokenSet): AuthHeaders {
    this.#token = tokens.accessToken;
    this.#next = undefined;
    this.#carrying = true;
    this.#hopped = false;
    return (this.#auth = this.#flow.headers(tokens));
  }

  /** Sends (`send`) once it holds a limiter slot (waited for within what is left of the timeout since `started`). */
  send<T>(send: () => T | PromiseLike<T>, started?: number): Promise<T> {
    const limiter = this.#flow.limiter;
    if (!limiter) return new Promise<T>((resolve) => resolve(send()));
    // A send that throws instead of rejecting gives its slot back all the same.
    return this.within('waiting for the rate limiter', (signal) => acquireSlot(limiter, signal), started).then(
      (release) => new Promise<T>((resolve) => resolve(send())).finally(release),
    );
  }

  /**
   * A redirect hop to `url` (`undefined`: a hop out of sight, such as one the runtime followed):
   * whether it may carry the token (as {@link RequestFlow.claims}). Once a hop may not, no later hop
   * of this send does, as fetch never puts `Authorization` back: else that origin would choose the
   * method, path and body of a request sent with it.
   */
  hop(url: string | undefined, optedOut?: () => boolean): boolean {
    this.#hopped = true;
    if (this.#carrying && !this.#flow.claims(url, optedOut)) this.#carrying = false;
    return this.#carrying;
  }

  /**
   * The verdict on an answer. Only an answer every hop of which carried the token says something of
   * the token or the budget: a fetch `Response` that says it was `redirected` when the host reported
   * no hop of this send went through hops out of sight (the runtime's), which may have left the API
   * and come back without the token.
   */
  verdict(response: ResponseInfo & { redirected?: boolean }): Verdict {
    if (response.redirected === true && !this.#hopped) this.hop(undefined);
    if (!this.#carrying) return HAND_BACK;
    const rejected = !this.#replayed && this.#flow.session.isTokenRejected(response);
    // Sent once (a stream body): the caller gets this answer, the next requests a renewed token.
    if (!this.replayable) return rejected ? REPORT : HAND_BACK;
    if (rejected) return REPLAY;
    const retry = this.#flow.retry;
    if (response.status === 429 && retry && this.#retries < retry.retries) {
      const ms = rateLimitWait(retry, response.headers?.get('retry-after'));
      if (ms !== undefined) {
        // A wait the request's own timeout cannot cover ends now, not once the timeout has passed.
        const timeout = this.#timeout();
        if (timeout > 0 && ms > timeout)
          return { kind: 'give-up', error: this.#timedOut(`waiting out a Retry-After of ${ms} ms`) };
        return { kind: 'wait', ms };
      }
    }
    return HAND_BACK;
  }

  /**
   * Acts on a verdict: `undefined` when the answer goes back to the caller (a rejection reported
   * first), else a promise that settles when the request may be sent again (with {@link ready}'s
   * tokens) or rejects with the error to hand back.
   */
  proceed(verdict: Verdict): Promise<void> | undefined {
    const session = this.#flow.session;
    switch (verdict.kind) {
      case 'hand-back':
        return undefined;
      case 'report':
        session.tokenRejected(this.#token).catch(() => {});
        return undefined;
      case 'give-up':
        return Promise.reject(verdict.error);
      case 'replay':
        this.#replayed = true;
        return this.within('waiting for a renewed token', (signal) =>
          session.tokenRejected(this.#token, signal && { signal }),
        ).then((tokens) => {
          this.#next = tokens;
        });
      case 'wait':
        this.#retries += 1;
        return waitUnlessAborted(verdict.ms, this.signal);
    }
  }

  /**
   * The request loop: a token (at once when one is cached), a limiter slot, the send, and the verdict
   * on its answer (replay once, wait out a 429) until an answer goes back. `answer` is the answer to a
   * first send the host made already (its hot path, with the tokens it gave {@link use}); `discard`
   * frees an answer that is not handed back.
   */
  async perform<R extends ResponseInfo>(
    send: (tokens: TokenSet) => Promise<R>,
    discard: (answer: R) => void,
    answer?: R,
  ): Promise<R> {
    for (;;) {
      if (answer === undefined) {
        // One deadline for the waits before this send (the token, then the limiter), not one each.
        const started = Date.now();
        const tokens = this.ready() ?? (await this.waitForToken(started));
        answer = await this.send(() => send(tokens), started);
      }
      const next = this.proceed(this.verdict(answer));
      if (next === undefined) return answer;
      discard(answer);
      await next;
      answer = undefined;
    }
  }

  /**
   * Runs one of the adapter's waits within what is left, since `started`, of the request's timeout
   * (a host starts its own only in the transport). The signal still ends it with `ABORTED`.
   */
  within<T>(what: string, wait: (signal: AbortSignal | undefined) => Promise<T>, started = Date.now()): Promise<T> {
    const signal = this.signal;
    const timeout = this.#timeout();
    if (timeout === 0) return wait(signal);
    const ms = timeout - (Date.now() - started);
    if (ms <= 0) return Promise.reject(this.#timedOut(what));
    const ctl = new AbortController();
    let expired = false;
    const onAbort = () => ctl.abort(signal!.reason);
    if (signal?.aborted) ctl.abort(signal.reason);
    else signal?.addEventListener('abort', onAbort, { once: true });
    const cancel = after(ms, () => {
      expired = true;
      ctl.abort();
    });
    const done = () => {
      cancel();
      signal?.removeEventListener('abort', onAbort);
    };
    return wait(ctl.signal).then(
      (value) => (done(), value),
      (error: unknown) => {
        done();
        throw expired ? this.#timedOut(what) : error;
      },
    );
  }

  #timeout(): number {
    const ms = this.#options.timeoutMs;
    return ms !== undefined && ms > 0 ? ms : 0;
  }

  #timedOut(what: string): unknown {
    const ms = this.#timeout();
    const error = new TimeoutError(`The request's timeout of ${ms} ms ran out while ${what}`, {
      operation: 'request',
      timeoutMs: ms,
    });
    return this.#options.timedOut ? this.#options.timedOut(error, what) : error;
  }

  toJSON(): Record<string, unknown> {
    return { replayed: this.#replayed, rateLimitRetries: this.#retries };
  }
}

/**
 * Whether a request body can be sent again (for a redirect or the replay after a rejected token):
 * anything but a stream, which can be read only once (a web `ReadableStream`, a Node stream, an
 * async iterable). Strings, buffers, `Blob`, `FormData`, `URLSearchParams` and objects a host
 * serializes are all sent again as they are.
 *
 * @example
 * replayableBody(JSON.stringify({ a: 1 })); // true
 * replayableBody(new ReadableStream()); // false
 */
export function replayableBody(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return true;
  const b = body as { pipe?: unknown; getReader?: unknown; [Symbol.asyncIterator]?: unknown };
  return (
    typeof b.pipe !== 'function' && typeof b.getReader !== 'function' && typeof b[Symbol.asyncIterator] !== 'function'
  );
}

/**
 * The absolute URL a request goes to, as a string (so the session's per-URL decision is reused): a
 * `scheme://` URL as it is; anything else resolved as fetch and XHR do in browsers, against the
 * document's base URL (a `<base href>` may point to another origin), in a worker against its
 * location; `undefined` elsewhere or when it is no URL.
 *
 * @example
 * absoluteUrl('https://api.example.com/items'); // 'https://api.example.com/items'
 * absoluteUrl('/items'); // in a page of https://app.example.com: 'https://app.example.com/items'
 */
export function absoluteUrl(url: unknown): string | undefined {
  if (typeof url === 'string' && (url.startsWith('https://') || url.startsWith('http://') || SCHEME.test(url)))
    return url;
  if (url instanceof URL) return url.href;
  const g = globalThis as { document?: { baseURI?: unknown }; location?: { href?: unknown } };
  const base = typeof g.document?.baseURI === 'string' ? g.document.baseURI : g.location?.href;
  if (typeof base !== 'string' || typeof url !== 'string') return undefined;
  try {
    return new URL(url, base).href;
  } catch {
    return undefined;
  }
}

const SCHEME = /^[a-z][a-z\d+\-.]*:\/\//i;

/**
 * Whether the runtime hides a manual redirect: browsers and workers answer `redirect: 'manual'` with
 * an opaque redirect (status 0, no `Location`) after the server has processed the request, so there
 * the runtime must follow redirects itself.
 *
 * @example
 * const followHere = !hidesManualRedirects();
 */
export function hidesManualRedirects(): boolean {
  const g = globalThis as { document?: unknown; importScripts?: unknown };
  return g.document !== undefined || typeof g.importScripts === 'function';
}
