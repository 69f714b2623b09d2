import axios, { type AxiosAdapter, type AxiosError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { AbortedError, acquireSlot, isAuthError, rateLimitWait, toLimiter, toRetryPolicy, waitUnlessAborted, type AuthSession, type LimiterOption, type RateLimitRetryOptions, type ResponseInfo, type TokenSet } from '@auth/core';
import { hide, redactHeaders, redactRequest, withContext } from './redact.js';
import { targetCheck } from './request-url.js';

declare module 'axios' {
  interface AxiosRequestConfig {
    /** `true`: `@auth/axios-adapter` leaves this request alone (no token, no refresh, no replay). */
    skipAuth?: boolean;
  }
}

/**
 * Options of {@link attachAuth}.
 *
 * @example
 * const options: AttachAuthOptions = {
 *   origins: ['https://files.example.com'],
 *   skip: (config) => config.url === '/health',
 *   limiter: { maxConcurrent: 10 },
 *   retryRateLimited: { retries: 1 },
 * };
 */
export interface AttachAuthOptions {
  /**
   * Origins that may carry the token besides the strategy's own (`https://host:port`). Requests to
   * any other origin are sent without it.
   */
  origins?: readonly string[];
  /** Requests for which this returns `true` are left alone, like `skipAuth: true`. */
  skip?: (config: AxiosRequestConfig) => boolean;
  /**
   * Schedules the authorized requests through Bottleneck: a `Bottleneck` instance (shared with other
   * code if you like) or the settings of a new one, e.g. `{ maxConcurrent: 10, minTime: 50 }`.
   * A request holds its slot while it is on the wire: from when axios hands it to its transport
   * until the answer (or the failure) arrives.
   */
  limiter?: LimiterOption;
  /**
   * Retries an API answer of 429 after its `Retry-After` (bounded; see {@link RateLimitRetryOptions}).
   * On by default; `false` hands every 429 to the caller.
   */
  retryRateLimited?: RateLimitRetryOptions | false;
}

const STATE = '__authAdapterState';

/** The auth headers of one token set, worked out once per token set. */
interface AuthHeaders {
  readonly pairs: readonly (readonly [string, string])[];
  readonly names: readonly string[];
  /**
   * Whether the names are lower case and the values need none of AxiosHeaders' sanitizing: then
   * they are assigned directly, skipping a regex pass over the token.
   */
  readonly clean: boolean;
}

/** What the adapter remembers of one request. The token is in a private field: never printed or serialized. */
class RequestState {
  #token: string;
  auth: AuthHeaders;
  replayed = false;
  rateLimitRetries = 0;
  /** Tokens the next send must carry (set before a replay). */
  next: TokenSet | undefined;
  /** The request's own transport, which ours wraps while the request is in flight. */
  inner: AxiosRequestConfig['adapter'];
  /** The request's own `beforeRedirect`, which ours wraps while the request is in flight. */
  beforeRedirect: AxiosRequestConfig['beforeRedirect'];
  redirecting = false;
  constructor(token: string, auth: AuthHeaders, inner: AxiosRequestConfig['adapter']) {
    this.#token = token;
    this.auth = auth;
    this.inner = inner;
  }
  get names(): readonly string[] {
    return this.auth.names;
  }
  get token(): string {
    return this.#token;
  }
  set token(value: string) {
    this.#token = value;
  }
  toJSON(): Record<string, unknown> {
    return { replayed: this.replayed, rateLimitRetries: this.rateLimitRetries };
  }
}

type Config = InternalAxiosRequestConfig & { [STATE]?: RequestState | undefined };

/** What follow-redirects hands to `beforeRedirect`: the next hop's request options. */
interface RedirectOptions {
  href?: string;
  headers?: Record<string, unknown>;
}

/**
 * Attaches `session` to an axios instance: requests to the strategy's origins carry its token, a
 * rejected token is reported (exactly the one that request carried) and the request is replayed
 * once with the new token. Requests to other origins, to the strategy's auth endpoints and those
 * marked `skipAuth: true` are never touched. Returns a function that detaches it.
 *
 * Errors keep axios' shape (an `AxiosError` for HTTP answers) with the auth header redacted from
 * `config.headers` and `request`; a failed login or refresh rejects with the core's `AuthError`
 * (`code`, e.g. `CREDENTIALS_REJECTED`) carrying the request's `config`. A request aborted while it
 * waits for a token, the limiter or a `Retry-After` rejects at once with an `AbortedError`
 * (`code: 'ABORTED'`, and `axios.isCancel(error)` is true).
 *
 * @example
 * import axios from 'axios';
 * import { createAuthSession } from '@auth/core';
 * import { attachAuth } from '@auth/axios-adapter';
 *
 * const api = axios.create({ baseURL: 'https://api.example.com' });
 * const session = createAuthSession(strategy);
 * const detach = attachAuth(api, session, { limiter: { maxConcurrent: 20 } });
 * const { data } = await api.get('/api/customers');
 * detach();
 */
export function attachAuth(instance: AxiosInstance, session: AuthSession, options: AttachAuthOptions = {}): () => void {
  const origins = options.origins;
  const skip = options.skip;
  const limiter = toLimiter(options.limiter);
  const retry429 = toRetryPolicy(options.retryRateLimited);
  const mayAuthorize = targetCheck((url) => session.mayAuthorize(url, origins), origins);

  // session.authorize() builds a header object; reuse it while the token set is the same.
  let lastTokens: TokenSet | undefined;
  let lastAuth: AuthHeaders = { pairs: [], names: [], clean: true };
  // Header values this adapter has set (the latest token sets'), so that a finished config reused
  // for another origin loses them even after a renewal. Updated once per token set.
  const applied = new Set<string>();
  const appliedNames = new Set<string>();

  const authHeaders = (tokens: TokenSet): AuthHeaders => {
    if (tokens !== lastTokens) {
      const pairs = Object.entries(session.authorize(tokens));
      const clean = pairs.every(([name, value]) => name === name.toLowerCase() && /^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) && /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value));
      lastAuth = { pairs, names: pairs.map(([name]) => name), clean };
      lastTokens = tokens;
      for (const [name, value] of pairs) {
        appliedNames.add(name);
        applied.add(value);
        // Bounded: tokens older than this many renewals have long expired.
        if (applied.size > 16) applied.delete(applied.values().next().value!);
      }
    }
    return lastAuth;
  };

  /**
   * The transport of every request we authorize. The token goes on here, when axios hands the
   * request over, rather than in the interceptor: axios normalizes (a regex pass over every value)
   * the headers it already has several times before that, the caller's interceptors and
   * `transformRequest` never see the token (nor log it), and the URL is checked once more as it
   * is sent, after every interceptor had its say. The limiter is taken here as well, so nothing
   * between the interceptor and the transport (another interceptor that throws, say) can keep a slot.
   */
  const send: AxiosAdapter = (config: Config) => {
    const state = config[STATE];
    const transport = axios.getAdapter((state ? state.inner : instance.defaults.adapter) || axios.defaults.adapter, config);
    if (state === undefined) return transport(config);
    if (!mayAuthorize(config)) {
      // An interceptor that ran after ours pointed the request elsewhere: it goes without the token.
      config[STATE] = undefined;
      restore(config, state);
      return transport(stripOurs(config));
    }
    putHeaders(config, state.auth);
    if (!state.redirecting) {
      state.redirecting = true;
      state.beforeRedirect = config.beforeRedirect;
      config.beforeRedirect = (options, response, request) => onRedirect(options as RedirectOptions, state, response, request);
    }
    if (!limiter) return transport(config);
    return acquireSlot(limiter, signalOf(config)).then(
      (release) => {
        let sent: Promise<AxiosResponse>;
        try {
          sent = Promise.resolve(transport(config));
        } catch (error) {
          release();
          throw error;
        }
        return sent.then(
          (response) => {
            release();
            return response;
          },
          (error: unknown) => {
            release();
            throw error;
          },
        );
      },
      (error: unknown) => {
        throw fail(error, config);
      },
    );
  };

  /**
   * Node's transport follows redirects itself (follow-redirects), dropping `Authorization` when the
   * host changes, except to a subdomain, and keeping every other header: a strategy's own header
   * (`X-AUTH-TOKEN`, say) would reach any origin the server redirects to. Each hop carries our
   * headers only if its URL may carry the token.
   */
  const onRedirect = (options: RedirectOptions, state: RequestState, response: unknown, request: unknown): void => {
    (state.beforeRedirect as ((...args: unknown[]) => void) | undefined)?.(options, response, request);
    const headers = options.headers;
    if (!headers) return;
    const allowed = typeof options.href === 'string' && session.mayAuthorize(options.href, origins);
    for (const [name, value] of state.auth.pairs) {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
      if (allowed) headers[name] = value;
    }
  };

  const putHeaders = (config: Config, auth: AuthHeaders): void => {
    const headers = config.headers;
    if (auth.clean && typeof headers.set === 'function') {
      const target = headers as unknown as Record<string, unknown>;
      for (const [name, value] of auth.pairs) {
        // The same header under another case (an instance default's `Authorization`) is replaced, as set() would.
        for (const key in target) if (key !== name && key.length === name.length && key.toLowerCase() === name) delete target[key];
        target[name] = value;
      }
    } else if (typeof headers.set === 'function') for (const [name, value] of auth.pairs) headers.set(name, value);
    // Not an AxiosHeaders (axios always hands one to the transport; kept for safety).
    else config.headers = Object.assign(headers ?? {}, Object.fromEntries(auth.pairs)) as typeof headers;
  };

  /** Marks the request as ours, with the tokens its next send carries. */
  const apply = (config: Config, tokens: TokenSet, state: RequestState | undefined): Config => {
    const auth = authHeaders(tokens);
    if (state) {
      state.token = tokens.accessToken;
      state.auth = auth;
      state.next = undefined;
    } else config[STATE] = new RequestState(tokens.accessToken, auth, config.adapter === send ? instance.defaults.adapter : config.adapter);
    config.adapter = send;
    return config;
  };

  /** A config reused from an earlier request may still hold our header: it must not travel elsewhere. */
  const stripOurs = (config: Config): Config => {
    const headers = config.headers;
    if (headers && typeof headers.get === 'function') {
      for (const name of appliedNames) {
        const value = headers.get(name);
        if (typeof value === 'string' && applied.has(value)) headers.delete(name);
      }
    }
    return config;
  };

  // The token a `runWhen` check saw. axios runs an all-synchronous interceptor chain in the same turn
  // as those checks, so the synchronous interceptor can count on it even if the renewal point was
  // crossed in between (it is still valid then: renewal starts before expiry).
  let peeked: TokenSet | undefined;
  /**
   * Whether this request can be authorized without waiting: a token is cached (or the replay's is
   * known). axios then takes its synchronous path (no promise hop before the request is sent) unless
   * another interceptor of the instance is asynchronous.
   */
  const ready = (config: Config): boolean => {
    if (config[STATE]?.next) return true;
    const tokens = session.peekToken();
    if (tokens === undefined) return false;
    peeked = tokens;
    return true;
  };
  // The two request interceptors below ask the same question for the same config, one after the
  // other: the second reuses the first one's answer.
  let decidedFor: Config | undefined;
  let decision = false;

  const onRequest = (config: Config, sync: boolean): Config | Promise<Config> => {
    const state = config[STATE];
    if (state === undefined) {
      if (config.skipAuth === true) return config;
      if (!mayAuthorize(config)) return stripOurs(config);
      if (skip !== undefined && skip(config)) return config;
    } else if (state.next) return apply(config, state.next, state);
    const signal = signalOf(config);
    // Hot path: a valid cached token is applied synchronously, without a promise.
    const cached = session.peekToken();
    if (sync) {
      // Only a promise-free answer keeps axios' synchronous chain working.
      if (signal?.aborted) throw fail(new AbortedError(), config);
      const tokens = cached ?? peeked;
      if (tokens !== undefined) {
        // Past the renewal point: let the session start its background renewal.
        if (cached === undefined) session.getToken().catch(() => {});
        return apply(config, tokens, state);
      }
    } else if (cached !== undefined && !signal?.aborted) return apply(config, cached, state);
    return session.getToken(signal && { signal }).then(
      (tokens) => apply(config, tokens, state),
      (error: unknown) => {
        throw fail(error, config);
      },
    );
  };

  const onResponse = (response: AxiosResponse): AxiosResponse | Promise<AxiosResponse> => {
    const config = response.config as Config;
    const state = config[STATE];
    if (state === undefined) return response;
    // A validateStatus that accepts error statuses: the answer is still checked.
    if (response.status >= 300) return followUp(config, state, response, response);
    // Done with this request: a later `axios(response.config)` is checked afresh.
    config[STATE] = undefined;
    restore(config, state);
    return response;
  };

  const onError = (error: unknown): Promise<never> | Promise<AxiosResponse> => {
    const config = (error as AxiosError | undefined)?.config as Config | undefined;
    const state = config?.[STATE];
    if (!config || !state || isAuthError(error)) return Promise.reject(error);
    return followUp(config, state, (error as AxiosError).response, error);
  };

  /** Replay after a rejected token, retry after a 429, or settle with `outcome` (a response or an error). */
  const followUp = (config: Config, state: RequestState, response: AxiosResponse | undefined, outcome: unknown): Promise<AxiosResponse> => {
    if (response) {
      const info: ResponseInfo = { status: response.status, headers: { get: (name) => headerValue(response.headers, name) } };
      const rejected = !state.replayed && session.isTokenRejected(info);
      if (!replayable(config)) {
        // Sent once (a stream body): the caller gets this answer, the next requests a renewed token.
        if (rejected) session.tokenRejected(state.token).catch(() => {});
      } else if (rejected) {
        state.replayed = true;
        const signal = signalOf(config);
        return session.tokenRejected(state.token, signal && { signal }).then(
          (tokens) => {
            state.next = tokens;
            return instance.request(config);
          },
          (error: unknown) => {
            throw fail(error, config);
          },
        );
      } else if (response.status === 429 && retry429 && state.rateLimitRetries < retry429.retries) {
        const wait = rateLimitWait(retry429, info.headers!.get('retry-after'));
        if (wait !== undefined) {
          state.rateLimitRetries += 1;
          return waitUnlessAborted(wait, signalOf(config)).then(
            () => instance.request(config),
            (error: unknown) => {
              throw fail(error, config);
            },
          );
        }
      }
    }
    settle(config, state, outcome);
    return outcome === response ? Promise.resolve(response!) : Promise.reject(outcome);
  };

  const syncId = instance.interceptors.request.use((config: Config) => onRequest(config, true), undefined, {
    synchronous: true,
    runWhen: (config: Config) => {
      decidedFor = config;
      return (decision = ready(config));
    },
  });
  const asyncId = instance.interceptors.request.use((config: Config) => onRequest(config, false), undefined, {
    runWhen: (config: Config) => {
      const sync = decidedFor === config ? decision : ready(config);
      decidedFor = undefined;
      return !sync;
    },
  });
  const responseId = instance.interceptors.response.use(onResponse, onError);
  return () => {
    instance.interceptors.request.eject(syncId);
    instance.interceptors.request.eject(asyncId);
    instance.interceptors.response.eject(responseId);
  };
}

/** The config as the caller made it: a later `axios(config)` goes through its own transport and hooks. */
function restore(config: Config, state: RequestState): void {
  config.adapter = state.inner;
  if (state.redirecting) {
    state.redirecting = false;
    if (state.beforeRedirect === undefined) delete config.beforeRedirect;
    else config.beforeRedirect = state.beforeRedirect;
  }
}

/** The request is done: errors handed to the caller carry no token, and a later `axios(error.config)` starts afresh. */
function settle(config: Config, state: RequestState, outcome: unknown): void {
  config[STATE] = undefined;
  restore(config, state);
  if (outcome instanceof Error) {
    const token = state.token;
    redactHeaders(config.headers, state.names);
    const e = outcome as Partial<AxiosError>;
    redactRequest(e.request, state.names, token);
    hide(e, 'request');
    if (e.response) {
      if (e.response.config && e.response.config !== config) redactHeaders(e.response.config.headers, state.names);
      if (e.response.request !== e.request) redactRequest(e.response.request, state.names, token);
      hide(e.response, 'request');
    }
  }
}

/** The core's error for this request, with its (token-free) config attached as `config`. */
function fail(error: unknown, config: Config): unknown {
  const state = config[STATE];
  if (state) settle(config, state, error);
  const out = withContext(error, { config });
  // So that existing `axios.isCancel(error)` checks treat an aborted wait like an aborted request.
  if (out instanceof AbortedError) Object.defineProperty(out, '__CANCEL__', { value: true, enumerable: false });
  return out;
}

function signalOf(config: AxiosRequestConfig): AbortSignal | undefined {
  const s = config.signal as AbortSignal | undefined;
  return s && typeof s.addEventListener === 'function' ? s : undefined;
}

/** Bodies axios cannot send twice (Node streams, web streams) are not replayed. */
function replayable(config: AxiosRequestConfig): boolean {
  const data = config.data as { pipe?: unknown; getReader?: unknown } | null | undefined;
  return !data || typeof data !== 'object' || (typeof data.pipe !== 'function' && typeof data.getReader !== 'function');
}

function headerValue(headers: unknown, name: string): string | null {
  if (!headers || typeof headers !== 'object') return null;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  const v = typeof h.get === 'function' ? h.get(name) : h[name.toLowerCase()];
  return v === undefined || v === null || v === false ? null : String(v);
}
