import {
  AbortedError,
  BadResponseError,
  ConfigurationError,
  TokenStoreError,
  RateLimitedError,
  isAuthError,
  type AuthError,
  type AuthOperation,
} from './errors.js';
import { Emitter, type AuthEventHandler, type AuthEventName } from './events.js';
import { createAuthHttp, type FetchLike } from './http.js';
import { silentLogger, type Logger } from './logger.js';
import { sharedLimiter, type AuthLimiter, type AuthLimiterFactory } from './rate-limit.js';
import { retryDelay, type RetryOptions } from './retry.js';
import {
  bearer,
  defaultIsTokenRejected,
  type RateLimitSpec,
  type ResponseInfo,
  type Strategy,
  type StrategyContext,
} from './strategy.js';
import {
  completeTokenSet,
  EXPIRED_ON_ARRIVAL_FLOOR_MS,
  renewAt,
  type RefreshAheadOptions,
  type TokenSet,
} from './token-set.js';
import { memoryTokenStore, type StoredTokens, type TokenStore } from './token-store.js';
import { OriginPolicy } from './origins.js';
import { abortReason, sleep } from './sleep.js';

/**
 * Options of {@link createAuthSession}; every one has a default.
 *
 * @example
 * const options: AuthSessionOptions = { timeoutMs: 5_000, retry: { retries: 2 }, logger: console };
 */
export interface AuthSessionOptions {
  /** Where tokens live. Default: in memory, per session. */
  store?: TokenStore;
  /** Key of this session's tokens in the store. Default: the strategy's `storeKey`, else its name. */
  storeKey?: string;
  /** Transport for the strategy's auth calls. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Clock in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** When to renew ahead of expiry. */
  refreshAhead?: RefreshAheadOptions;
  /** Retries of transient auth failures. */
  retry?: RetryOptions;
  /** Timeout of each auth call. Default 15 s. */
  timeoutMs?: number;
  logger?: Logger;
  /** Replaces the strategy's declared rate limit, or `false` to send auth calls unpaced. */
  rateLimit?: RateLimitSpec | false;
  /** Builds the limiter for a rate limit. Default: one Bottleneck sliding window per key in this process. */
  limiter?: AuthLimiterFactory;
  /** Tokens to start from (e.g. exported by an earlier process); used when the store has none. */
  initialTokens?: TokenSet;
  /** Event handlers, the same as calling `session.on()`. */
  on?: { [K in AuthEventName]?: AuthEventHandler<K> };
}

/**
 * Per-call options of the methods that hand out tokens.
 *
 * @example
 * const tokens = await session.getToken({ signal: AbortSignal.timeout(2_000) });
 */
export interface GetTokenOptions {
  /** Rejects this caller (only) with `ABORTED`; a shared renewal goes on for the others. */
  signal?: AbortSignal;
}

/**
 * The object adapters use: hands out valid tokens and renews them, one renewal at a time.
 *
 * @example
 * const session: AuthSession = createAuthSession(strategy);
 * const res = await fetch(url, { headers: session.authorize(await session.getToken()) });
 */
export interface AuthSession {
  readonly strategy: Strategy;
  /**
   * A valid token set: the cached one, or the result of the one login/refresh in flight.
   *
   * @example
   * const { accessToken } = await session.getToken();
   */
  getToken(opts?: GetTokenOptions): Promise<TokenSet>;
  /**
   * Report that the server rejected `accessToken`. Returns a newer token set: the current one if the
   * rejected token was already replaced, otherwise the result of one (shared) refresh or login.
   *
   * @example
   * let tokens = await session.getToken();
   * let res = await fetch(url, { headers: session.authorize(tokens) });
   * if (session.isTokenRejected(res)) {
   *   tokens = await session.tokenRejected(tokens.accessToken);
   *   res = await fetch(url, { headers: session.authorize(tokens) }); // replayed once, never again
   * }
   */
  tokenRejected(accessToken: string, opts?: GetTokenOptions): Promise<TokenSet>;
  /** A new login now (single-flight with any renewal in progress). */
  login(opts?: GetTokenOptions): Promise<TokenSet>;
  /** A refresh now (falls back to login when the refresh token is dead). */
  refresh(opts?: GetTokenOptions): Promise<TokenSet>;
  /**
   * Revokes on the server where the strategy can, then forgets the tokens here and in the store. A
   * renewal in flight is waited for first, so the tokens it obtains are the ones revoked; with a
   * coordinating store, so is another holder's (a tab's, a process's) renewal.
   */
  logout(): Promise<void>;
  /** The current tokens, to persist elsewhere and pass back with `importTokens` or `initialTokens`. */
  exportTokens(): Promise<TokenSet | undefined>;
  /** Adopts tokens obtained elsewhere (another process, a previous run). */
  importTokens(tokens: TokenSet): Promise<void>;
  /** Headers presenting `tokens` on a request, as the strategy says. */
  authorize(tokens: TokenSet): Record<string, string>;
  /** Whether a response means the token was rejected (refresh and replay), as the strategy says. */
  isTokenRejected(response: ResponseInfo): boolean;
  /**
   * Whether a request to `url` may carry this session's token (its origin is the strategy's and it is not an auth
   * endpoint).
   */
  mayAuthorize(url: string | URL, extraOrigins?: readonly string[]): boolean;
  /**
   * The cached token set if it is valid now and needs no renewal, else `undefined`: lets an adapter
   * authorize a request synchronously, falling back to `getToken()`.
   *
   * @example
   * const tokens = session.peekToken() ?? (await session.getToken());
   */
  peekToken(): TokenSet | undefined;
  /** Whether `url` is one of the strategy's own auth endpoints. */
  isAuthEndpoint(url: string | URL): boolean;
  on<K extends AuthEventName>(name: K, handler: AuthEventHandler<K>): () => void;
  /** Stops in-flight auth calls and refuses new ones. */
  close(): void;
}

/**
 * Creates the session every adapter uses.
 *
 * @example
 * import { createAuthSession } from '@auth/core';
 * import { openLoyaltyAdmin } from '@auth/openloyalty-admin';
 * const session = createAuthSession(openLoyaltyAdmin({ baseUrl, username, password }));
 * const { accessToken } = await session.getToken();
 */
export function createAuthSession(strategy: Strategy, options: AuthSessionOptions = {}): AuthSession {
  return new Session(strategy, options);
}

class Session implements AuthSession {
  readonly strategy: Strategy;
  readonly #store: TokenStore;
  readonly #key: string;
  readonly #now: () => number;
  readonly #fetch: FetchLike;
  readonly #logger: Logger;
  readonly #emitter = new Emitter();
  readonly #limiter: AuthLimiter | undefined;
  readonly #rateLimit: RateLimitSpec | undefined;
  readonly #opts: AuthSessionOptions;
  readonly #closer = new AbortController();
  readonly #origins: OriginPolicy;

  #tokens: TokenSet | undefined;
  #generation = 0;
  /** Generation last reported rejected: never handed out again. */
  #rejectedGeneration = -1;
  #renewAt = Number.NEGATIVE_INFINITY;
  /** Resolved promise of the current tokens: the fast path returns it without allocating. */
  #cached: Promise<TokenSet> | undefined;
  /** The login/refresh in flight, until it serves its tokens: started by #renew only, ended by #endFlight only. */
  #flight: Flight | undefined;
  #loaded: Promise<void> | undefined;
  /** After a failed refresh-ahead, the next attempt waits until this time (the token is still valid). */
  #backgroundRetryAt = 0;
  #skewLogged = false;
  /** Generation this session is writing to the store: the store's notice of that write is our own. */
  #writing = -1;
  #unsubscribe: (() => void) | undefined;

  constructor(strategy: Strategy, options: AuthSessionOptions) {
    if (!strategy || typeof strategy.login !== 'function' || typeof strategy.name !== 'string')
      throw new ConfigurationError('createAuthSession needs a strategy with a name and a login() method');
    if (!Array.isArray(strategy.origins))
      throw new ConfigurationError(`strategy ${strategy.name} must list the origins its tokens belong to`);
    this.strategy = strategy;
    this.#opts = options;
    this.#store = options.store ?? memoryTokenStore();
    this.#key = options.storeKey ?? strategy.storeKey ?? strategy.name;
    this.#now = options.now ?? Date.now;
    const f = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (!f) throw new ConfigurationError('no fetch available: pass options.fetch');
    this.#fetch = options.fetch ? f : (input, init) => globalThis.fetch(input, init);
    this.#logger = options.logger ?? silentLogger;
    this.#rateLimit = options.rateLimit === false ? undefined : (options.rateLimit ?? strategy.rateLimit);
    this.#limiter = this.#rateLimit ? (options.limiter ?? sharedLimiter)(this.#rateLimit) : undefined;
    this.#origins = new OriginPolicy(strategy.origins, strategy.authEndpoints ?? []);
    for (const [name, handler] of Object.entries(options.on ?? {}))
      if (handler) this.#emitter.on(name as AuthEventName, handler as AuthEventHandler<AuthEventName>);
    if (options.initialTokens)
      this.#adopt({ tokens: completeTokenSet(options.initialTokens, this.#now()), generation: 0 }, undefined);
    // Stores that push changes (another browser tab renewed or logged out): adopt them at once, so
    // this session never keeps sending a token another holder replaced or dropped.
    this.#unsubscribe = this.#store.subscribe?.(this.#key, (value) => this.#onStoreChange(value));
  }

  peekToken(): TokenSet | undefined {
    return this.#cached !== undefined && this.#now() < this.#renewAt ? this.#tokens : undefined;
  }

  getToken(opts?: GetTokenOptions): Promise<TokenSet> {
    // Hot path: a valid cached token costs one clock read and a comparison.
    if (this.#cached !== undefined && this.#now() < this.#renewAt && !opts?.signal?.aborted) return this.#cached;
    return this.#getTokenSlow(opts);
  }

  async #getTokenSlow(opts?: GetTokenOptions): Promise<TokenSet> {
    throwIfAborted(opts?.signal);
    await this.#load();
    const tokens = this.#tokens;
    const now = this.#now();
    if (tokens && this.#generation > this.#rejectedGeneration) {
      if (now < this.#renewAt) return tokens;
      // Due for renewal but still valid: renew in the background and keep serving this token.
      if (tokens.expiresAt !== undefined && now < tokens.expiresAt) {
        if (!this.#flight && now >= this.#backgroundRetryAt) {
          this.#renew('auto').promise.catch(() => {
            this.#backgroundRetryAt =
              this.#now() + Math.min(30_000, Math.max(1_000, (tokens.expiresAt! - this.#now()) / 4));
          });
        }
        return tokens;
      }
    }
    return this.#join(this.#renew('auto'), opts?.signal, 'auto');
  }

  async tokenRejected(accessToken: string, opts?: GetTokenOptions): Promise<TokenSet> {
    throwIfAborted(opts?.signal);
    await this.#load();
    const current = this.#tokens;
    const stale = current !== undefined && current.accessToken !== accessToken;
    this.#emitter.emit('rejected', { strategy: this.strategy.name, generation: this.#generation, stale });
    // The current token is dead even if the renewal in flight fails: never serve it again.
    if (!stale) this.#invalidate();
    if (this.#flight) return this.#join(this.#flight, opts?.signal, 'refresh');
    if (stale && this.#generation > this.#rejectedGeneration) return current;
    this.#invalidate();
    return this.#join(this.#renew('refresh'), opts?.signal, 'refresh');
  }

  login(opts?: GetTokenOptions): Promise<TokenSet> {
    return this.#join(this.#renew('login'), opts?.signal, 'login');
  }

  refresh(opts?: GetTokenOptions): Promise<TokenSet> {
    return this.#join(this.#renew('refresh'), opts?.signal, 'refresh');
  }

  async logout(): Promise<void> {
    await this.#load();
    // A renewal already in flight would otherwise commit its tokens after the logout (bringing them
    // back here and in the store, never revoked): let it finish and revoke what it obtained.
    if (this.#flight) await this.#flight.promise.catch(() => {});
    this.#invalidate();
    if (!this.#store.coordinate) return this.#end(undefined);
    // Another holder of the store (a tab, a process) may be renewing: under its lock, the logout waits
    // for that renewal and revokes what it obtained, which would otherwise be stored after the delete
    // and bring the session back in every tab.
    let ran = false;
    try {
      await this.#store.coordinate(this.#key, (latest) => ((ran = true), this.#end(latest)), {
        signal: this.#closer.signal,
      });
    } catch (error) {
      if (ran) throw error;
      // No lock to be had (a stuck holder, the store unreachable): log out here all the same.
      await this.#end(undefined);
    }
  }

  /** Revokes where the strategy can and forgets the tokens here and in the store (`latest`: the store's, if newer). */
  async #end(latest: StoredTokens | undefined): Promise<void> {
    const tokens =
      latest?.tokens?.accessToken && (latest.generation > this.#generation || !this.#tokens)
        ? latest.tokens
        : this.#tokens;
    if (latest && latest.generation > this.#generation) this.#generation = latest.generation;
    const revoke = this.strategy.revoke;
    this.#invalidate();
    try {
      if (tokens && revoke) await this.#attempt('revoke', (ctx) => revoke.call(this.strategy, tokens, ctx));
    } finally {
      this.#tokens = undefined;
      this.#cached = undefined;
      this.#generation += 1;
      await this.#store.delete(this.#key).catch((error: unknown) => {
        throw storeError(error, 'delete', this.strategy.name);
      });
      this.#emitter.emit('tokens', {
        strategy: this.strategy.name,
        generation: this.#generation,
        reason: 'logout',
        expiresAt: undefined,
      });
      this.#emitter.emit('logout', { strategy: this.strategy.name });
    }
  }

  async exportTokens(): Promise<TokenSet | undefined> {
    await this.#load();
    return this.#tokens && { ...this.#tokens };
  }

  async importTokens(tokens: TokenSet): Promise<void> {
    if (!tokens || typeof tokens.accessToken !== 'string' || tokens.accessToken === '')
      throw new ConfigurationError('importTokens needs a token set with an accessToken');
    await this.#load();
    await this.#commit(completeTokenSet(tokens, this.#now()), 'import', undefined);
  }

  authorize(tokens: TokenSet): Record<string, string> {
    return this.strategy.authorize ? this.strategy.authorize(tokens) : bearer(tokens);
  }

  isTokenRejected(response: ResponseInfo): boolean {
    return this.strategy.isTokenRejected ? this.strategy.isTokenRejected(response) : defaultIsTokenRejected(response);
  }

  mayAuthorize(url: string | URL, extraOrigins?: readonly string[]): boolean {
    return this.#origins.mayAuthorize(url, extraOrigins);
  }

  isAuthEndpoint(url: string | URL): boolean {
    return this.#origins.isAuthEndpoint(url);
  }

  on<K extends AuthEventName>(name: K, handler: AuthEventHandler<K>): () => void {
    return this.#emitter.on(name, handler);
  }

  close(): void {
    // The reason is what every wait on the session's signal rejects with (see abortReason).
    this.#closer.abort(new AbortedError('the session was closed', { strategy: this.strategy.name }));
    this.#unsubscribe?.();
  }

  // ---- internals ----

  #load(): Promise<void> {
    return (this.#loaded ??= this.#store.get(this.#key).then(
      (stored) => {
        if (stored && stored.generation >= this.#generation && stored.tokens?.accessToken) this.#adopt(stored, 'store');
        else if (this.#tokens && !stored)
          void this.#store.set(this.#key, { tokens: this.#tokens, generation: this.#generation }).catch(() => {});
      },
      (error: unknown) => {
        this.#loaded = undefined;
        throw storeError(error, 'read', this.strategy.name);
      },
    ));
  }

  #onStoreChange(value: StoredTokens | undefined): void {
    if (this.#closer.signal.aborted) return;
    if (value) {
      // Without tokens (after a logout), any value is newer: another tab's login after ours.
      if (
        value.generation !== this.#writing &&
        (value.generation > this.#generation || !this.#tokens) &&
        value.tokens?.accessToken
      )
        this.#adoptFromStore(value);
      return;
    }
    // Deleted by another holder (a logout in another tab): forget the tokens, as a logout here would.
    if (this.#writing !== -1 || !this.#tokens) return;
    this.#tokens = undefined;
    this.#invalidate();
    this.#emitter.emit('tokens', {
      strategy: this.strategy.name,
      generation: this.#generation,
      reason: 'logout',
      expiresAt: undefined,
    });
    this.#emitter.emit('logout', { strategy: this.strategy.name });
  }

  /**
   * Another holder's tokens. Into a session without tokens their generation may be lower than ours (a new lineage after
   * a logout): not a rejected one.
   */
  #adoptFromStore(value: StoredTokens): void {
    if (!this.#tokens) this.#rejectedGeneration = -1;
    this.#adopt(value, 'store');
  }

  #invalidate(): void {
    this.#rejectedGeneration = this.#generation;
    this.#cached = undefined;
    this.#renewAt = Number.NEGATIVE_INFINITY;
  }

  #adopt(stored: StoredTokens, reason: 'store' | 'import' | undefined): void {
    this.#tokens = stored.tokens;
    this.#generation = stored.generation;
    this.#renewAt = renewAt(stored.tokens, this.#opts.refreshAhead);
    this.#cached = Promise.resolve(stored.tokens);
    this.#backgroundRetryAt = 0;
    if (reason)
      this.#emitter.emit('tokens', {
        strategy: this.strategy.name,
        generation: this.#generation,
        reason,
        expiresAt: stored.tokens.expiresAt,
      });
  }

  /** Starts a renewal unless one is in flight: the single-flight point of the session. */
  #renew(kind: 'auto' | 'refresh' | 'login'): Flight {
    if (this.#flight) return this.#flight;
    const flight: Flight = {
      promise: this.#runRenewal(kind, () => this.#endFlight(flight)).finally(() => {
        flight.settled = true;
        this.#endFlight(flight);
      }),
      settled: false,
    };
    // Callers may all have given up (aborted); the flight's failure must not become unhandled.
    flight.promise.catch(() => {});
    this.#flight = flight;
    return flight;
  }

  /**
   * Ends `flight` if it is still the current one (never a newer one): callers from now on start a new
   * renewal. Called when its tokens are served (a rejection reported from then on is about those
   * tokens, and must not join the finished flight, whose promise settles some microtasks later), when
   * it settles, and when it is found abandoned (see #join).
   */
  #endFlight(flight: Flight): void {
    if (this.#flight === flight) this.#flight = undefined;
  }

  /** The renewal of a flight; `served` ends the flight the moment its tokens are served. */
  async #runRenewal(kind: 'auto' | 'refresh' | 'login', served: () => void): Promise<TokenSet> {
    await this.#load();
    // Newer than this: renewed by another holder while we waited (possibly already adopted here
    // through the store's change notice, which must not make us renew again).
    const startGeneration = this.#generation;
    const startedWithTokens = this.#tokens !== undefined;
    const renew = async (latest: StoredTokens | undefined): Promise<TokenSet> => {
      // Another holder of the store (a process of the fleet) may have renewed while we waited.
      if (latest && (latest.generation > startGeneration || !startedWithTokens) && latest.tokens?.accessToken) {
        if (latest.generation > this.#generation || !this.#tokens) this.#adoptFromStore(latest);
        if (kind !== 'login' && this.#now() < this.#renewAt) {
          served();
          return this.#tokens!;
        }
      }
      const current = this.#tokens;
      const refresh = this.strategy.refresh;
      if (
        kind !== 'login' &&
        current?.refreshToken &&
        refresh &&
        !(current.refreshExpiresAt !== undefined && this.#now() >= current.refreshExpiresAt)
      ) {
        try {
          const started = this.#now();
          const next = await this.#attempt('refresh', (ctx) => refresh.call(this.strategy, current, ctx));
          // A refresh that returns no refresh token keeps the old one (APIs that do not rotate).
          const merged: TokenSet = next?.refreshToken
            ? next
            : { ...next, refreshToken: current.refreshToken, refreshExpiresAt: current.refreshExpiresAt };
          return await this.#commit(this.#issued(merged), 'refresh', started, served);
        } catch (error) {
          // isAuthError, not instanceof: a strategy built against another copy of this package throws that copy's
          // errors.
          if (!(isAuthError(error) && error.code === 'REFRESH_REJECTED')) throw error;
          this.#logger.info('refresh token rejected; logging in again', {
            strategy: this.strategy.name,
            status: error.status,
          });
        }
      }
      const started = this.#now();
      const fresh = await this.#attempt('login', (ctx) => this.strategy.login(ctx));
      return this.#commit(this.#issued(fresh), 'login', started, served);
    };
    if (this.#store.coordinate) return this.#store.coordinate(this.#key, renew, { signal: this.#closer.signal });
    // Without coordination, still look at the store: another session sharing it may have rotated the
    // refresh token since we loaded, and spending our stale one would cost a 401 and a needless login.
    const latest = await this.#store.get(this.#key).catch(() => undefined);
    return renew(latest);
  }

  /** A login's or refresh's answer, completed; one that arrived expired is the server's clock (logged once). */
  #issued(tokens: TokenSet): TokenSet {
    return completeTokenSet(tokens, this.#now(), {
      issuedNow: true,
      onExpiredOnArrival: (byMs) => {
        if (this.#skewLogged) return;
        this.#skewLogged = true;
        this.#logger.warn(
          `the token arrived already expired (by ${byMs} ms): the server's clock is behind, or its exp is before its iat; using it for ${EXPIRED_ON_ARRIVAL_FLOOR_MS} ms or until it is rejected`,
          { strategy: this.strategy.name },
        );
      },
    });
  }

  /**
   * Stores new tokens (before anyone uses them: a rotated refresh token must not be lost), then serves
   * them; `served` ends the flight that obtained them (an import leaves a flight in progress alone).
   */
  async #commit(
    tokens: TokenSet,
    reason: 'login' | 'refresh' | 'import',
    started: number | undefined,
    served?: () => void,
  ): Promise<TokenSet> {
    if (typeof tokens.accessToken !== 'string' || tokens.accessToken === '') {
      throw new BadResponseError(`${this.strategy.name}: ${reason} returned no access token`, {
        operation: reason === 'import' ? 'login' : reason,
        strategy: this.strategy.name,
      });
    }
    const generation = this.#generation + 1;
    this.#writing = generation;
    try {
      await this.#store.set(this.#key, { tokens, generation });
    } catch (error) {
      // Losing the new tokens would be worse than not persisting them: keep serving them here.
      this.#logger.error('token store write failed; tokens kept in memory only', {
        strategy: this.strategy.name,
        error: describe(error),
      });
    }
    this.#writing = -1;
    this.#adopt({ tokens, generation }, undefined);
    // Before anyone hears of these tokens: a rejection of them must start a new renewal.
    served?.();
    const name = this.strategy.name;
    this.#emitter.emit('tokens', { strategy: name, generation, reason, expiresAt: tokens.expiresAt });
    if (reason !== 'import') {
      const event = {
        strategy: name,
        durationMs: this.#now() - (started ?? this.#now()),
        generation,
        expiresAt: tokens.expiresAt,
      };
      this.#emitter.emit(reason, event);
      this.#logger.debug(`${reason} succeeded`, event);
    }
    return tokens;
  }

  /** One auth step with pacing, bounded retries of transient failures and typed errors. */
  async #attempt<T>(operation: AuthOperation, call: (ctx: StrategyContext) => Promise<T>): Promise<T> {
    const timeoutMs = this.#opts.timeoutMs ?? 15_000;
    const ctx: StrategyContext = {
      http: createAuthHttp({
        fetch: this.#fetch,
        timeoutMs,
        strategy: this.strategy.name,
        signal: this.#closer.signal,
        now: this.#now,
      }),
      now: this.#now,
      logger: this.#logger,
      signal: this.#closer.signal,
      fetch: this.#fetch,
      timeoutMs,
    };
    const retry: RetryOptions = { rateLimitedFallbackMs: this.#rateLimit?.windowMs, ...this.#opts.retry };
    const maxPauseMs = retry.maxRetryAfterMs ?? 120_000;
    const closed = this.#closer.signal;
    for (let attempt = 1; ; attempt += 1) {
      if (closed.aborted) throw abortReason(closed);
      // The server asked for a longer pause than this session waits out: say so now rather than
      // queue behind it (an hour's Retry-After would otherwise hold every caller for an hour).
      const paused = this.#limiter?.pausedFor?.() ?? 0;
      if (paused > maxPauseMs) throw this.#pausedError(operation, paused);
      let sent = false;
      const send = () => {
        sent = true;
        return call(ctx);
      };
      try {
        if (!this.#limiter) return await send();
        // A call queued behind the limit (a permit returns a window later, a 429 pause) settles as
        // soon as the session is closed or the pause outgrows maxPauseMs, and is then never sent.
        return await untilAborted(
          this.#limiter.schedule(() => (closed.aborted ? Promise.reject(abortReason(closed)) : send()), {
            signal: closed,
            maxPauseMs,
          }),
          closed,
          () => abortReason(closed) as AuthError,
        );
      } catch (raw) {
        const error = toAuthError(raw, operation, this.strategy.name);
        // Refused by the limiter before anything was sent: no new 429 to report or wait out.
        if (!sent && error.code === 'RATE_LIMITED')
          throw this.#pausedError(operation, (error as RateLimitedError).retryAfterMs ?? paused);
        if (!sent && error.code === 'ABORTED') throw error;
        const wait = retryDelay(error, attempt, retry);
        const retryAfterMs = (error as AuthError & { retryAfterMs?: number }).retryAfterMs;
        if (error.code === 'RATE_LIMITED' || retryAfterMs !== undefined) {
          const pause = retryAfterMs ?? retry.rateLimitedFallbackMs ?? 60_000;
          this.#limiter?.pause(pause);
          this.#emitter.emit('rate-limited', { strategy: this.strategy.name, operation, retryAfterMs: pause });
        }
        this.#emitter.emit('failure', {
          strategy: this.strategy.name,
          operation,
          error,
          attempt,
          willRetry: wait !== undefined,
        });
        this.#logger.warn(`${operation} failed${wait !== undefined ? `; retrying in ${wait} ms` : ''}`, {
          strategy: this.strategy.name,
          code: error.code,
          status: error.status,
          attempt,
        });
        if (wait === undefined) throw error;
        await sleep(wait, closed);
      }
    }
  }

  #pausedError(operation: AuthOperation, pausedMs: number): RateLimitedError {
    return new RateLimitedError(
      `${this.strategy.name}: ${operation} is paused for ${Math.ceil(pausedMs)} ms after the server's 429`,
      {
        operation,
        strategy: this.strategy.name,
        retryAfterMs: Math.ceil(pausedMs),
        status: undefined,
      },
    );
  }

  /** Waits for a shared promise, letting this caller alone give up when its signal fires. */
  #join(flight: Flight, signal: AbortSignal | undefined, kind: 'auto' | 'refresh' | 'login'): Promise<TokenSet> {
    // Cloudflare Workers: I/O belongs to the request that started it. When that request ends first
    // (it gave up, its client left), its login never settles, and the runtime rejects any other
    // request awaiting it. A flight that rejects while still unsettled is such a refusal, never the
    // renewal's own outcome (that settles the flight first): drop it and renew in this caller's
    // request; the other refused waiters join that one.
    const waited = flight.promise.catch((error: unknown) => {
      if (flight.settled) throw error;
      this.#endFlight(flight);
      if (this.#cached !== undefined && this.#now() < this.#renewAt) return this.#cached;
      return this.#renew(kind).promise;
    });
    return signal
      ? untilAborted(
          waited,
          signal,
          () => new AbortedError('aborted while waiting for a token', { strategy: this.strategy.name }),
        )
      : waited;
  }
}

/** One login/refresh, shared by every caller that asks for one while it runs. */
interface Flight {
  readonly promise: Promise<TokenSet>;
  /**
   * Its renewal has finished. A flight that rejects while unsettled was refused by the runtime
   * (see #join), and is not the renewal's outcome.
   */
  settled: boolean;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('aborted before a token was requested');
}

/** A store that failed with an untyped error (a third-party store): typed here, its message kept short. */
function storeError(error: unknown, action: 'read' | 'delete', strategy: string): AuthError {
  if (isAuthError(error)) return error;
  return new TokenStoreError(
    `the token store failed to ${action} the tokens (${error instanceof Error ? error.name : typeof error})`,
    { strategy, cause: error },
  );
}

function toAuthError(raw: unknown, operation: AuthOperation, strategy: string): AuthError {
  if (isAuthError(raw)) return raw;
  // A strategy that threw something untyped (a bug, or an unexpected body shape it did not check).
  return new BadResponseError(
    `${strategy}: ${operation} failed unexpectedly (${raw instanceof Error ? raw.name : typeof raw})`,
    { operation, strategy, cause: raw },
  );
}

/**
 * A failed store call for a log line: the error's name and code, as the read path reports it, never
 * its message (a MongoDB duplicate key error quotes the key: the token).
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  const safe = typeof code === 'number' || (typeof code === 'string' && /^[\w.-]{1,40}$/.test(code));
  return safe ? `${error.name} (code ${String(code)})` : error.name;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, error: () => AuthError): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(error());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(error());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
