import axios, {
  AxiosError,
  type AxiosAdapter,
  type AxiosHeaders,
  type AxiosInstance,
  type AxiosRequestConfig,
  type AxiosResponse,
} from 'axios';
import type { InternalAxiosRequestConfig as Config } from 'axios';
import { isAuthError, replayableBody, RequestFlow, withContext, type AuthHeaders, type AuthSession } from '@auth/core';
import type { LimiterOption, RateLimitRetryOptions, RunOptions, TimeoutError, TokenSet } from '@auth/core';
import { InFlight } from './in-flight.js';
import { scrub } from './redact.js';
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

let attachments = 0;
/** A config with our in-flight state under an attachment's key. */
type Tracked = Config & Record<string, InFlight | undefined>;

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
  const mayAuthorize = targetCheck((url) => flow.claims(url), options.origins);
  // Each attachment keeps its requests under its own key (a string: axios copies only string keys
  // when it merges a config, and a replay goes through that merge).
  const KEY = `__authAdapterState${(attachments += 1)}`;
  const inFlight = (config: Config) => (config as Tracked)[KEY];
  const track = (config: Config, state: InFlight | undefined): void => {
    if (state) (config as Tracked)[KEY] = state;
    else delete (config as Tracked)[KEY];
  };

  /** A config reused from an earlier request may still hold our header: it must not travel elsewhere. */
  const stripOurs = (config: Config): Config => {
    const headers = config.headers;
    if (headers && typeof headers.get === 'function') {
      for (const name of flow.appliedNames) if (flow.isApplied(headers.get(name))) headers.delete(name);
    }
    return config;
  };

  /** Whether the request is ours: it goes where the token may go and is not opted out. */
  const claims = (config: Config): boolean =>
    config.skipAuth !== true && mayAuthorize(config) && (skip === undefined || !skip(config));

  /**
   * The request interceptor only claims the request. It never waits (everything that may wait
   * happens in `send`), so it is one of axios' synchronous interceptors: with no asynchronous
   * interceptor of yours, the request reaches the transport in the same turn as `api.get()`.
   */
  const onRequest = (config: Config): Config => {
    if (inFlight(config) === undefined) {
      if (!claims(config)) return stripOurs(config);
      track(
        config,
        new InFlight(flow.start(), config, config.adapter === send ? instance.defaults.adapter : config.adapter),
      );
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
    const state = inFlight(config);
    const transport = axios.getAdapter(
      (state ? state.inner : instance.defaults.adapter) || axios.defaults.adapter,
      config,
    );
    if (state === undefined) return transport(config);
    if (!claims(config)) {
      // An interceptor that ran after ours pointed the request elsewhere or opted it out.
      settle(config, state);
      return transport(stripOurs(config));
    }
    const run = state.run;
    run.reread(runOptions(config));
    const tokens = run.ready();
    // Hot path: a valid cached token is put on at once, without a promise.
    if (tokens !== undefined) return dispatch(config, state, tokens, transport);
    // One deadline for every wait before this send (the token, then the limiter), not one each.
    const started = Date.now();
    return run.waitForToken(started).then(
      (fresh) => dispatch(config, state, fresh, transport, started),
      (error: unknown) => {
        throw fail(error, config, state);
      },
    );
  };

  const dispatch = (config: Config, state: InFlight, tokens: TokenSet, transport: AxiosAdapter, started?: number) => {
    putHeaders(config, state.run.use(tokens));
    state.arm(config, transport);
    if (!flow.limiter) return transport(config);
    return state.run
      .send(() => transport(config), started)
      .catch((error: unknown) => {
        throw isAuthError(error) || isOurTimeout(error) ? fail(error, config, state) : error;
      });
  };

  /** The request is done: a later `axios(config)` is checked afresh; an error handed back carries no token. */
  const settle = (config: Config, state: InFlight, outcome?: unknown): void => {
    track(config, undefined);
    state.restore(config);
    if (outcome instanceof Error) scrub(outcome, config, state.run.auth.names, state.run.token);
  };

  /** The core's error for this request, with its (token-free) config attached as `config`. */
  const fail = (error: unknown, config: Config, state: InFlight): unknown => {
    settle(config, state, error);
    const out = withContext(error, { config });
    // So that existing `axios.isCancel(error)` checks treat an aborted wait like an aborted request.
    if (isAuthError(out) && out.code === 'ABORTED')
      Object.defineProperty(out, '__CANCEL__', { value: true, enumerable: false });
    return out;
  };

  const onResponse = (response: AxiosResponse): AxiosResponse | Promise<AxiosResponse> => {
    const config = response.config as Config;
    const state = inFlight(config);
    if (state === undefined) return response;
    // A validateStatus that accepts error statuses: the answer is still checked.
    if (response.status >= 300) return followUp(config, state, response, response);
    settle(config, state);
    return response;
  };

  const onError = (error: unknown): Promise<AxiosResponse> => {
    const config = (error as AxiosError | undefined)?.config as Config | undefined;
    const state = config && inFlight(config);
    if (!config || !state || isAuthError(error)) return Promise.reject(error);
    return followUp(config, state, (error as AxiosError).response, error);
  };

  /** Acts on the run's verdict: replay after a rejected token, retry after a 429, or settle with `outcome`. */
  const followUp = (
    config: Config,
    state: InFlight,
    response: AxiosResponse | undefined,
    outcome: unknown,
  ): Promise<AxiosResponse> => {
    const run = state.run;
    run.reread(runOptions(config));
    // In a browser, XHR follows redirects out of our sight: where it ended is its responseURL.
    const landed = (response?.request as { responseURL?: unknown } | undefined)?.responseURL;
    if (typeof landed === 'string' && landed !== '') run.hop(landed);
    const next = response && run.proceed(run.verdict({ status: response.status, headers: answerHeaders(response) }));
    if (next === undefined) {
      settle(config, state, outcome);
      return outcome === response ? Promise.resolve(response!) : Promise.reject(outcome);
    }
    return next.then(
      () => {
        // Re-sent through the interceptors, which must not see the token.
        if (typeof config.headers?.delete === 'function')
          for (const name of run.auth.names) config.headers.delete(name);
        return instance.request(config);
      },
      (error: unknown) => {
        throw fail(error, config, state);
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

/**
 * Puts the auth headers on, replacing the same header under another case (an instance default's
 * `Authorization`), as `set()` would.
 */
function putHeaders(config: Config, auth: AuthHeaders): void {
  const headers = config.headers;
  // axios always hands the transport an AxiosHeaders; clean pairs skip its normalizing (the hot path).
  if (!auth.clean) for (const [name, value] of auth.pairs) headers.set(name, value);
  else {
    const target = headers as unknown as Record<string, unknown>;
    for (const [name, value] of auth.pairs) {
      for (const key in target)
        if (key !== name && key.length === name.length && key.toLowerCase() === name) delete target[key];
      target[name] = value;
    }
  }
}

/** What the core's run reads of the config (axios merges a new one for every re-send). */
function runOptions(config: Config): RunOptions {
  const signal = config.signal as AbortSignal | undefined;
  return {
    signal: signal && typeof signal.addEventListener === 'function' ? signal : undefined,
    timeoutMs: timeoutOf(config),
    // Bodies axios cannot send twice (Node streams, web streams) are not replayed.
    replayable: replayableBody(config.data),
    timedOut: (cause, what) => timedOut(config, cause, what),
  };
}

/** The request's `timeout` in ms, read as axios' transports read it (0: none). */
function timeoutOf(config: AxiosRequestConfig): number {
  const ms = parseInt(String(config.timeout ?? 0), 10);
  return ms > 0 ? ms : 0;
}

/**
 * axios' timeout error (`ECONNABORTED`, or `ETIMEDOUT` with `transitional.clarifyTimeoutError`) for
 * a wait of the adapter's, naming it; `cause` is the core's `TimeoutError` (`code: 'TIMEOUT'`).
 */
function timedOut(config: Config, cause: TimeoutError, what: string): AxiosError {
  const clarify = (config.transitional as { clarifyTimeoutError?: boolean } | undefined)?.clarifyTimeoutError === true;
  const error = new AxiosError(
    `timeout of ${timeoutOf(config)}ms exceeded while ${what}`,
    clarify ? 'ETIMEDOUT' : 'ECONNABORTED',
    config,
  );
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
  return error;
}

function isOurTimeout(error: unknown): boolean {
  return error instanceof AxiosError && (error.cause as { code?: unknown } | undefined)?.code === 'TIMEOUT';
}

/**
 * The answer's headers as the core reads them (`get` → a string or `null`): an AxiosHeaders, or a
 * plain record where a caller's interceptor that ran before ours replaced it.
 */
function answerHeaders(response: AxiosResponse): { get(name: string): string | null } {
  const headers = response.headers as Partial<AxiosHeaders> & Record<string, unknown>;
  return {
    get: (name) => {
      if (!headers || typeof headers !== 'object') return null;
      const v = typeof headers.get === 'function' ? headers.get(name) : headers[name.toLowerCase()];
      return v === undefined || v === null || v === false ? null : String(v);
    },
  };
}
