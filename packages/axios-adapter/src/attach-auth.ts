import axios, { AxiosError, type AxiosAdapter, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { isAuthError, RequestFlow, withContext, TimeoutError, type AuthHeaders, type AuthSession, type LimiterOption, type RateLimitRetryOptions, type RequestRun, type RunOptions, type TokenSet } from '@auth/core';
import { hide, redactHeaders, redactRequest } from './redact.js';
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

// Each attachment keeps its request state under its own key (a string: axios copies only string
// keys when it merges a config, and a replay goes through that merge).
let attachments = 0;

let nodeHttp: AxiosAdapter | null | undefined;
/** axios' Node transport (follow-redirects), whose redirects `beforeRedirect` sees; `null` where there is none. */
function nodeHttpAdapter(): AxiosAdapter | null {
  if (nodeHttp === undefined) {
    try {
      nodeHttp = axios.getAdapter('http');
    } catch {
      nodeHttp = null;
    }
  }
  return nodeHttp;
}

let fetchTransport: AxiosAdapter | null | undefined;
/** axios' own fetch transport (default environment), which follows redirects where no hook of ours sees them. */
function fetchAdapter(): AxiosAdapter | null {
  if (fetchTransport === undefined) {
    try {
      fetchTransport = axios.getAdapter('fetch');
    } catch {
      fetchTransport = null;
    }
  }
  return fetchTransport;
}

/**
 * Whether `transport` is axios' fetch adapter: the default one, or (when the request names its adapter
 * rather than passing a function) the one axios made for this config's environment.
 */
function isFetchTransport(transport: AxiosAdapter, state: { inner: AxiosRequestConfig['adapter'] }, config: AxiosRequestConfig): boolean {
  if (transport === fetchAdapter()) return true;
  if (typeof state.inner === 'function' || fetchAdapter() === null) return false;
  try {
    return transport === axios.getAdapter('fetch', config as InternalAxiosRequestConfig);
  } catch {
    return false;
  }
}

/** Browsers and workers answer a manual redirect opaquely: there the runtime must follow redirects. */
const browserLike = typeof (globalThis as { document?: unknown }).document !== 'undefined' || typeof (globalThis as { importScripts?: unknown }).importScripts === 'function';

/** What a Node transport object of the caller's (`config.transport`, e.g. `followRedirects.http`) offers. */
interface NodeTransport {
  request(options: Record<string, unknown>, callback?: (...args: unknown[]) => void): unknown;
}

type BeforeRedirect = AxiosRequestConfig['beforeRedirect'];

/** What the adapter keeps of one request besides the core's run: the host's hooks ours wrap while it is in flight. */
class RequestState {
  readonly run: RequestRun;
  /** The request's own transport and `beforeRedirect`, which ours wrap while the request is in flight. */
  readonly inner: AxiosRequestConfig['adapter'];
  readonly beforeRedirect: BeforeRedirect;
  /** Our `beforeRedirect` for this request, once installed (see `dispatch`). */
  hook: BeforeRedirect;
  /** The caller's `maxRedirects` and `fetchOptions`, while ours are in force (see `dispatch`). */
  capped: { maxRedirects: unknown; fetchOptions: unknown; hadMax: boolean; hadFetch: boolean } | undefined;
  /** The caller's `config.transport` and ours around it (see `dispatch`). */
  transport: NodeTransport | undefined;
  wrapped: NodeTransport | undefined;
  constructor(run: RequestRun, inner: AxiosRequestConfig['adapter'], beforeRedirect: BeforeRedirect) {
    this.run = run;
    this.inner = inner;
    this.beforeRedirect = beforeRedirect;
  }
  toJSON(): unknown {
    return this.run.toJSON();
  }
}

type Config = InternalAxiosRequestConfig;

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
 * The token is put on the request when axios hands it to its transport: the adapter wraps the
 * request's `adapter` for as long as the request is in flight and restores it when it settles.
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
  const skip = options.skip;
  const flow = new RequestFlow(session, options);
  const mayAuthorize = targetCheck((url) => flow.mayCarry(url), options.origins);
  const STATE = `__authAdapterState${(attachments += 1)}`;
  const stateOf = (config: Config): RequestState | undefined => (config as unknown as Record<string, RequestState | undefined>)[STATE];
  const setState = (config: Config, state: RequestState | undefined): void => {
    if (state) (config as unknown as Record<string, RequestState | undefined>)[STATE] = state;
    else delete (config as unknown as Record<string, RequestState | undefined>)[STATE];
  };

  /** A config reused from an earlier request may still hold our header: it must not travel elsewhere. */
  const stripOurs = (config: Config): Config => {
    const headers = config.headers;
    if (headers && typeof headers.get === 'function') for (const name of flow.appliedNames) if (flow.isApplied(headers.get(name))) headers.delete(name);
    return config;
  };

  /** Whether the request is ours: it goes where the token may go and is not opted out. */
  const claims = (config: Config): boolean => config.skipAuth !== true && mayAuthorize(config) && (skip === undefined || !skip(config));

  /**
   * The request interceptor only claims the request. It never waits (everything that may wait
   * happens in `send`), so it is one of axios' synchronous interceptors: with no asynchronous
   * interceptor of yours, the request reaches the transport in the same turn as `api.get()`.
   */
  const onRequest = (config: Config): Config => {
    if (stateOf(config) === undefined) {
      if (!claims(config)) return stripOurs(config);
      setState(config, new RequestState(flow.start(), config.adapter === send ? instance.defaults.adapter : config.adapter, config.beforeRedirect));
    }
    config.adapter = send;
    return config;
  };

  /**
   * The transport of every request we claimed. The token goes on here, when axios hands the request
   * over: the caller's interceptors and `transformRequest` never see it, axios does not normalize it,
   * and the URL and the opt-outs are checked once more after every interceptor had its say. Waiting
   * for a token and for the limiter happens here too, so nothing before the transport can keep a slot.
   */
  const send: AxiosAdapter = (config: Config) => {
    const state = stateOf(config);
    const transport = axios.getAdapter((state ? state.inner : instance.defaults.adapter) || axios.defaults.adapter, config);
    if (state === undefined) return transport(config);
    if (!claims(config)) {
      // An interceptor that ran after ours pointed the request elsewhere or opted it out.
      setState(config, undefined);
      restore(config, state);
      return transport(stripOurs(config));
    }
    const run = state.run;
    run.options = runOptions(config);
    const tokens = run.ready();
    // Hot path: a valid cached token is put on at once, without a promise.
    if (tokens !== undefined) return dispatch(config, state, tokens, transport);
    // One deadline for every wait before this send (the token, then the limiter), not one each.
    const started = Date.now();
    return run.waitForToken(started).then(
      (fresh) => dispatch(config, state, fresh, transport, started),
      (error: unknown) => {
        throw fail(error, config);
      },
    );
  };

  const dispatch = (config: Config, state: RequestState, tokens: TokenSet, transport: AxiosAdapter, started?: number): Promise<AxiosResponse> => {
    putHeaders(config, state.run.use(tokens));
    // Only Node's transport (follow-redirects, possibly behind a wrapper of the caller's) calls
    // beforeRedirect. A config copied in flight carries this very hook.
    if (state.hook === undefined) state.hook = (opts, response, request) => onRedirect(opts as RedirectOptions, state, response, request);
    if (config.beforeRedirect !== state.hook) config.beforeRedirect = state.hook;
    if (transport === nodeHttpAdapter()) {
      // axios gives a transport of the caller's (`config.transport`, e.g. followRedirects.http) no
      // beforeRedirect of the config: ours goes in through that transport instead.
      const theirs = (config as { transport?: NodeTransport }).transport;
      if (theirs && theirs !== state.wrapped) {
        state.transport = theirs;
        state.wrapped = wrapTransport(theirs, state);
        (config as { transport?: NodeTransport }).transport = state.wrapped;
      }
    } else if (state.capped === undefined && !browserLike && (state.run.auth.custom || isFetchTransport(transport, state, config))) {
      // Other transports follow redirects where no hook of ours can see them: axios' fetch adapter
      // keeps every header but Authorization, and an answer it reached through another origin (a
      // 401 of the API, where the chain came back without the token) would pass for a verdict on the
      // token. A redirect is handed back instead of followed (`maxRedirects: 0` in axios 1.19+,
      // `fetchOptions.redirect` before). Not in browsers: there a manual redirect comes back opaque
      // (status 0) after the server acted on the request, so the browser follows it (see the README).
      const own = config as unknown as Record<string, unknown>;
      state.capped = { maxRedirects: own.maxRedirects, fetchOptions: own.fetchOptions, hadMax: 'maxRedirects' in own, hadFetch: 'fetchOptions' in own };
      config.maxRedirects = 0;
      own.fetchOptions = { ...(own.fetchOptions as object | undefined), redirect: 'manual' };
    }
    if (!flow.limiter) return transport(config);
    return state.run.send(() => transport(config), started).catch((error: unknown) => {
      throw isAuthError(error) || isAxiosTimeout(error) ? fail(error, config) : error;
    });
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

  /**
   * Node's transport follows redirects itself (follow-redirects), dropping `Authorization` when the
   * host changes, except to a subdomain, and keeping every other header: a strategy's own header
   * (`X-AUTH-TOKEN`, say) would reach any origin the server redirects to. Each hop carries our
   * headers only if the run says it may.
   */
  const onRedirect = (opts: RedirectOptions, state: RequestState, response: unknown, request: unknown, theirs = true): void => {
    if (theirs) (state.beforeRedirect as ((...args: unknown[]) => void) | undefined)?.(opts, response, request);
    const headers = opts.headers;
    if (!headers) return;
    const allowed = state.run.hop(typeof opts.href === 'string' ? opts.href : undefined);
    for (const [name, value] of state.run.auth.pairs) {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
      if (allowed) headers[name] = value;
    }
  };

  /**
   * `transport` with our hook on every hop it follows: follow-redirects calls the `beforeRedirect` of
   * its options, where axios put its own hooks (a proxy's, say) but, with a caller's transport, not
   * the config's. The caller's `beforeRedirect` is not called there either, as axios would not.
   */
  const wrapTransport = (inner: NodeTransport, state: RequestState): NodeTransport => {
    const wrapped = Object.create(inner) as NodeTransport;
    const request = (options: Record<string, unknown>, callback?: (...args: unknown[]) => void): unknown => {
      const axiosHook = options.beforeRedirect as ((...args: unknown[]) => void) | undefined;
      options.beforeRedirect = (opts: RedirectOptions, response: unknown, req: unknown) => {
        if (typeof axiosHook === 'function') axiosHook(opts, response, req);
        onRedirect(opts, state, response, req, false);
      };
      return inner.request(options, callback);
    };
    Object.defineProperty(wrapped, 'request', { value: request, writable: true, configurable: true });
    return wrapped;
  };

  /** The config as the caller made it: a later `axios(config)` goes through its own transport and hooks. */
  const restore = (config: Config, state: RequestState): void => {
    config.adapter = state.inner;
    if (state.wrapped !== undefined && (config as { transport?: unknown }).transport === state.wrapped) (config as { transport?: unknown }).transport = state.transport;
    if (config.beforeRedirect !== state.beforeRedirect) {
      if (state.beforeRedirect === undefined) delete config.beforeRedirect;
      else config.beforeRedirect = state.beforeRedirect;
    }
    const was = state.capped;
    if (was !== undefined) {
      state.capped = undefined;
      const own = config as unknown as Record<string, unknown>;
      if (was.hadMax) own.maxRedirects = was.maxRedirects;
      else delete own.maxRedirects;
      if (was.hadFetch) own.fetchOptions = was.fetchOptions;
      else delete own.fetchOptions;
    }
  };

  /** The request is done: errors handed to the caller carry no token, and a later `axios(error.config)` starts afresh. */
  const settle = (config: Config, state: RequestState, outcome: unknown): void => {
    setState(config, undefined);
    restore(config, state);
    if (outcome instanceof Error) {
      const { token, auth } = state.run;
      redactHeaders(config.headers, auth.names);
      const e = outcome as Partial<AxiosError>;
      redactRequest(e.request, auth.names, token);
      hide(e, 'request');
      if (e.response) {
        if (e.response.config && e.response.config !== config) redactHeaders(e.response.config.headers, auth.names);
        if (e.response.request !== e.request) redactRequest(e.response.request, auth.names, token);
        hide(e.response, 'request');
      }
    }
  };

  /** The core's error for this request, with its (token-free) config attached as `config`. */
  const fail = (error: unknown, config: Config): unknown => {
    const state = stateOf(config);
    if (state) settle(config, state, error);
    const out = withContext(error, { config });
    // So that existing `axios.isCancel(error)` checks treat an aborted wait like an aborted request.
    if (isAuthError(out) && out.code === 'ABORTED') Object.defineProperty(out, '__CANCEL__', { value: true, enumerable: false });
    return out;
  };

  const onResponse = (response: AxiosResponse): AxiosResponse | Promise<AxiosResponse> => {
    const config = response.config as Config;
    const state = stateOf(config);
    if (state === undefined) return response;
    // A validateStatus that accepts error statuses: the answer is still checked.
    if (response.status >= 300) return followUp(config, state, response, response);
    // Done with this request: a later `axios(response.config)` is checked afresh.
    setState(config, undefined);
    restore(config, state);
    return response;
  };

  const onError = (error: unknown): Promise<never> | Promise<AxiosResponse> => {
    const config = (error as AxiosError | undefined)?.config as Config | undefined;
    const state = config && stateOf(config);
    if (!config || !state || isAuthError(error)) return Promise.reject(error);
    return followUp(config, state, (error as AxiosError).response, error);
  };

  /** Acts on the run's verdict: replay after a rejected token, retry after a 429, or settle with `outcome` (a response or an error). */
  const followUp = (config: Config, state: RequestState, response: AxiosResponse | undefined, outcome: unknown): Promise<AxiosResponse> => {
    const run = state.run;
    run.options = runOptions(config);
    // In a browser, XHR follows redirects out of our sight: where it ended is its responseURL.
    const landed = (response?.request as { responseURL?: unknown } | undefined)?.responseURL;
    if (typeof landed === 'string' && landed !== '') run.hop(landed);
    const next = response && run.proceed(run.verdict({ status: response.status, headers: { get: (name) => headerValue(response.headers, name) } }));
    if (next === undefined) {
      settle(config, state, outcome);
      return outcome === response ? Promise.resolve(response!) : Promise.reject(outcome);
    }
    return next.then(
      () => instance.request(unauthorized(config, run)),
      (error: unknown) => {
        throw fail(error, config);
      },
    );
  };

  const requestId = instance.interceptors.request.use(onRequest, undefined, { synchronous: true });
  const responseId = instance.interceptors.response.use(onResponse, onError);
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}

/** `config` without our headers, for a re-send: the interceptors it goes through again must not see the token. */
function unauthorized(config: Config, run: RequestRun): Config {
  const headers = config.headers;
  if (headers && typeof headers.delete === 'function') for (const name of run.auth.names) headers.delete(name);
  return config;
}

/** What the core's run reads of the config (axios merges a new one for every re-send). */
function runOptions(config: Config): RunOptions {
  const s = config.signal as AbortSignal | undefined;
  return { signal: s && typeof s.addEventListener === 'function' ? s : undefined, timeoutMs: timeoutOf(config), replayable: replayable(config), timedOut: (what) => timedOut(config, what) };
}

function isAxiosTimeout(error: unknown): boolean {
  return error instanceof AxiosError && (error.cause as { code?: unknown } | undefined)?.code === 'TIMEOUT';
}

/** The request's `timeout` in ms, as axios reads it (0: none). */
function timeoutOf(config: AxiosRequestConfig): number {
  const t = config.timeout;
  if (t === undefined || t === 0) return 0;
  const ms = typeof t === 'number' ? t : parseInt(String(t), 10);
  return ms > 0 ? ms : 0;
}

/**
 * axios' timeout error (`ECONNABORTED`, or `ETIMEDOUT` with `transitional.clarifyTimeoutError`) for
 * a wait of the adapter's, naming it; `cause` is the core's `TimeoutError` (`code: 'TIMEOUT'`).
 */
function timedOut(config: AxiosRequestConfig, what: string): AxiosError {
  const ms = timeoutOf(config);
  const clarify = (config.transitional as { clarifyTimeoutError?: boolean } | undefined)?.clarifyTimeoutError === true;
  const error = new AxiosError(`timeout of ${ms}ms exceeded while ${what}`, clarify ? 'ETIMEDOUT' : 'ECONNABORTED', config as InternalAxiosRequestConfig);
  const cause = new TimeoutError(`The request's timeout of ${ms} ms ran out while ${what}`, { operation: 'request', timeoutMs: ms });
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
  return error;
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
