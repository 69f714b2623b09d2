import {
  AbortedError,
  ConfigurationError,
  TimeoutError,
  silentLogger,
  type Logger,
  type StoredTokens,
  type TokenStore,
} from '@auth/core';
import { FORMAT, VERSION, decode, encode, isStoredTokens } from './codec.js';

/**
 * What the store needs of a storage: the three methods of the Web Storage API (`localStorage`,
 * `sessionStorage`, or your own object, e.g. a wrapper over a webview's native store).
 *
 * @example
 * const map = new Map<string, string>();
 * const storage: StorageLike = { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
 */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Options of {@link browserTokenStore}; every one has a default.
 *
 * @example
 * const options: BrowserTokenStoreOptions = { storage: 'local', prefix: 'shop', refreshToken: 'session', logger: console };
 */
export interface BrowserTokenStoreOptions {
  /**
   * Where the tokens persist. `'local'` (default): `localStorage`, shared by the origin's tabs and kept
   * across reloads and restarts. `'session'`: `sessionStorage`, this tab only, kept across its reloads.
   * `'memory'`: nowhere (live tabs still share through the channel). Or any {@link StorageLike}.
   */
  storage?: 'local' | 'session' | 'memory' | StorageLike;
  /**
   * Prefix of every storage key, lock and channel name: one per app on the origin. Default `'auth'`. Entries are
   * `<prefix>:<storeKey>`.
   */
  prefix?: string;
  /**
   * Where the refresh token goes. `'storage'` (default): with the access token in `storage`.
   * `'session'`: in `sessionStorage` only (this tab's reloads keep it; a new tab does not get it from
   * disk). `'memory'`: in the tabs' memory only (a reload of every tab loses it). Live tabs hand it to
   * each other through the channel in both cases. See the README's security section.
   */
  refreshToken?: 'storage' | 'session' | 'memory';
  /** How long a tab waits for another tab's renewal before failing with `TIMEOUT`. Default 30 000. */
  waitTimeoutMs?: number;
  /**
   * Without Web Locks (`navigator.locks`: missing on non-secure origins, before Safari 15.4, in some
   * webviews). `'error'` (default): `browserTokenStore()` throws `CONFIGURATION`. `'tab'`: renew per
   * tab (still one renewal per tab, re-reading the storage first); two tabs renewing at the same moment
   * may spend the same rotating refresh token, and the loser logs in again.
   */
  withoutLocks?: 'error' | 'tab';
  /** The lock manager. Default `navigator.locks`; `null` acts as if there were none. */
  locks?: LockManager | null;
  /** Receives warnings (ignored values, storage failures). Never given tokens. */
  logger?: Logger;
}

/**
 * A {@link TokenStore} for the tabs, windows and workers of one origin, with `coordinate` (one
 * renewal across tabs) and `subscribe` (changes pushed to every tab's session).
 *
 * @example
 * const store: BrowserTokenStore = browserTokenStore();
 * const session = createAuthSession(strategy, { store });
 * // when the app is torn down (tests, micro-frontends):
 * session.close();
 * store.close();
 */
export interface BrowserTokenStore extends TokenStore {
  coordinate<T>(
    key: string,
    renew: (latest: StoredTokens | undefined) => Promise<T>,
    opts?: { signal?: AbortSignal },
  ): Promise<T>;
  subscribe(key: string, listener: (value: StoredTokens | undefined) => void): () => void;
  /** Where tokens persist now: `'memory'` after a storage failure (the tokens stay in this tab). */
  readonly persistence: 'storage' | 'memory';
  /** Whether renewals are coordinated by Web Locks (`true`) or per tab (`withoutLocks: 'tab'`). */
  readonly locked: boolean;
  /** Stops listening to other tabs (closes the BroadcastChannel). */
  close(): void;
}

type Message = { type: 'set'; key: string; value: StoredTokens } | { type: 'delete'; key: string };

/**
 * Creates a token store for browsers: tokens persisted in `localStorage` (by default) under
 * `<prefix>:<storeKey>` as a versioned entry, one renewal at a time across the origin's tabs (Web
 * Locks; a waiting tab re-reads the storage inside the lock and adopts the result, making no auth
 * call), and every change (renewal, import, logout) pushed at once to every tab through a
 * `BroadcastChannel` (the `storage` event where there is none).
 *
 * @example
 * import { createAuthSession } from '@auth/core';
 * import { openLoyaltyMember } from '@auth/openloyalty-member';
 * import { browserTokenStore } from '@auth/browser-store';
 *
 * const session = createAuthSession(
 *   openLoyaltyMember({ baseUrl: 'https://tenant.openloyalty.io', storeCode: 'default', credentials: () => showLoginForm() }),
 *   { store: browserTokenStore({ prefix: 'shop' }) },
 * );
 */
export function browserTokenStore(options: BrowserTokenStoreOptions = {}): BrowserTokenStore {
  return new Store(options);
}

class Store implements BrowserTokenStore {
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #refreshMode: 'storage' | 'session' | 'memory';
  readonly #waitTimeoutMs: number;
  readonly #locks: LockManager | undefined;
  /** The storage read from and removed from; `undefined` once it failed to read. */
  #storage: StorageLike | undefined;
  /**
   * Whether writes go to `#storage`: not after one was refused (quota, private mode), while reads and removals still
   * work there.
   */
  #writable = true;
  #session: StorageLike | undefined;
  /** This tab's newest value per key: serves memory mode, a failed storage and tab-kept refresh tokens. */
  readonly #mirror = new Map<string, StoredTokens>();
  readonly #listeners = new Map<string, Set<(value: StoredTokens | undefined) => void>>();
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Raw values already reported as unreadable: one log line each, not one per read. */
  readonly #reported = new Set<string>();
  /** Keys whose renewal lock this tab holds now, and the generation written under it. */
  readonly #holding = new Map<string, number | undefined>();
  /** Per key, the release of this tab's generation marker lock (see `#mark`). */
  readonly #markers = new Map<string, () => void>();
  readonly #channel: BroadcastChannel | undefined;
  readonly #onStorage: ((event: StorageEvent) => void) | undefined;

  constructor(o: BrowserTokenStoreOptions) {
    this.#prefix = o.prefix ?? 'auth';
    // Web Lock names starting with "-" are reserved by the browser.
    if (typeof this.#prefix !== 'string' || this.#prefix === '' || this.#prefix.startsWith('-'))
      throw new ConfigurationError('browser-store: prefix must be a non-empty string not starting with "-"');
    this.#logger = o.logger ?? silentLogger;
    this.#refreshMode = o.refreshToken ?? 'storage';
    if (!['storage', 'session', 'memory'].includes(this.#refreshMode))
      throw new ConfigurationError("browser-store: refreshToken must be 'storage', 'session' or 'memory'");
    this.#waitTimeoutMs = o.waitTimeoutMs ?? 30_000;
    if (!(this.#waitTimeoutMs > 0)) throw new ConfigurationError('browser-store: waitTimeoutMs must be > 0');
    const locks =
      o.locks === undefined ? (globalThis.navigator as Navigator | undefined)?.locks : (o.locks ?? undefined);
    this.#locks = locks && typeof locks.request === 'function' ? locks : undefined;
    if (!this.#locks && (o.withoutLocks ?? 'error') !== 'tab') {
      throw new ConfigurationError(
        "browser-store: Web Locks (navigator.locks) are not available here (a non-secure origin, an old browser or a webview), so tabs cannot take turns renewing; pass withoutLocks: 'tab' to renew per tab",
      );
    }
    this.#storage = this.#resolve(o.storage ?? 'local');
    if (this.#refreshMode === 'session') this.#session = this.#open('session', true);
    if (typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(`${this.#prefix}:@auth/browser-store`);
      this.#channel.onmessage = (event: MessageEvent) => this.#receive(event.data);
    } else if (o.storage === undefined || o.storage === 'local') {
      // No BroadcastChannel (older webviews): other tabs' writes to localStorage still arrive as events.
      this.#onStorage = (event) => this.#storageEvent(event);
      globalThis.addEventListener?.('storage', this.#onStorage);
    }
  }

  get persistence(): 'storage' | 'memory' {
    return this.#storage && this.#writable ? 'storage' : 'memory';
  }

  get locked(): boolean {
    return this.#locks !== undefined;
  }

  #entry(key: string): string {
    return `${this.#prefix}:${key}`;
  }

  #resolve(storage: BrowserTokenStoreOptions['storage']): StorageLike | undefined {
    if (storage === 'memory') return undefined;
    if (storage === 'local' || storage === 'session') return this.#open(storage);
    if (
      !storage ||
      typeof storage.getItem !== 'function' ||
      typeof storage.setItem !== 'function' ||
      typeof storage.removeItem !== 'function'
    ) {
      throw new ConfigurationError(
        "browser-store: storage must be 'local', 'session', 'memory' or an object with getItem, setItem and removeItem",
      );
    }
    return storage;
  }

  /**
   * The browser's storage, or `undefined` (with a warning) when it is missing or unreadable (blocked
   * cookies). One that refuses writes (a full quota, private mode) is still read: the tokens already
   * persisted there are used, and a logout still removes them.
   */
  #open(which: 'local' | 'session', forRefreshToken = false): StorageLike | undefined {
    const name = which === 'local' ? 'localStorage' : 'sessionStorage';
    let storage: StorageLike | undefined;
    try {
      storage = (globalThis as Record<string, unknown>)[name] as StorageLike | undefined;
      if (!storage) throw new Error('missing');
      storage.getItem(`${this.#prefix}:@auth/browser-store:probe`);
    } catch (error) {
      this.#logger.warn(`browser-store: ${name} is not usable here; tokens are kept in this tab's memory only`, {
        error: describe(error),
      });
      return undefined;
    }
    try {
      const probe = `${this.#prefix}:@auth/browser-store:probe`;
      storage.setItem(probe, '1');
      storage.removeItem(probe);
    } catch (error) {
      if (forRefreshToken) {
        this.#logger.warn('browser-store: sessionStorage refuses writes; the refresh token is kept in memory only', {
          error: describe(error),
        });
        return undefined;
      }
      this.#degrade(error, 'write', storage);
    }
    return storage;
  }

  /**
   * A storage call that failed: from now on this tab keeps new tokens in memory (a failed read: the storage is no
   * longer used at all).
   */
  #degrade(error: unknown, action: 'read' | 'write' | 'delete', storage = this.#storage): void {
    if (!storage || (!this.#writable && action !== 'read')) return;
    this.#writable = false;
    if (action === 'read') this.#storage = undefined;
    this.#logger.warn(
      `browser-store: the storage failed to ${action} (quota, private mode?); tokens are kept in this tab's memory from now on`,
      { error: describe(error) },
    );
  }

  #readStorage(key: string): StoredTokens | undefined {
    const storage = this.#storage;
    if (!storage) return undefined;
    let raw: string | null;
    try {
      raw = storage.getItem(this.#entry(key));
    } catch (error) {
      this.#degrade(error, 'read');
      return undefined;
    }
    if (raw === null) return undefined;
    const value = decode(raw);
    if (typeof value === 'string') {
      if (!this.#reported.has(raw)) {
        this.#reported.add(raw);
        this.#logger.warn(`browser-store: ignored the stored value of "${key}" (${value}); a login follows`, {
          key,
          reason: value,
        });
      }
      return undefined;
    }
    return value;
  }

  #readSessionRefresh(
    key: string,
    generation: number,
  ): Pick<StoredTokens['tokens'], 'refreshToken' | 'refreshExpiresAt'> | undefined {
    try {
      const raw = this.#session?.getItem(`${this.#entry(key)}:refresh`);
      if (!raw) return undefined;
      const kept = JSON.parse(raw) as {
        format?: unknown;
        v?: unknown;
        generation?: unknown;
        refreshToken?: unknown;
        refreshExpiresAt?: unknown;
      };
      if (
        kept.format !== FORMAT ||
        kept.v !== VERSION ||
        kept.generation !== generation ||
        typeof kept.refreshToken !== 'string'
      )
        return undefined;
      return {
        refreshToken: kept.refreshToken,
        refreshExpiresAt: typeof kept.refreshExpiresAt === 'number' ? kept.refreshExpiresAt : undefined,
      };
    } catch {
      return undefined;
    }
  }

  #writeSessionRefresh(key: string, value: StoredTokens | undefined): void {
    const session = this.#session;
    if (!session) return;
    const name = `${this.#entry(key)}:refresh`;
    try {
      if (!value?.tokens.refreshToken) session.removeItem(name);
      else
        session.setItem(
          name,
          JSON.stringify({
            format: FORMAT,
            v: VERSION,
            generation: value.generation,
            refreshToken: value.tokens.refreshToken,
            refreshExpiresAt: value.tokens.refreshExpiresAt,
          }),
        );
    } catch (error) {
      this.#session = undefined;
      this.#logger.warn('browser-store: sessionStorage failed; the refresh token is kept in memory only', {
        error: describe(error),
      });
    }
  }

  async get(key: string): Promise<StoredTokens | undefined> {
    return this.#current(key);
  }

  /** The newest value this tab can see: the storage's, or its own (newer when the storage failed or lags). */
  #current(key: string): StoredTokens | undefined {
    const stored = this.#readStorage(key);
    const mine = this.#mirror.get(key);
    let value = stored && (!mine || stored.generation > mine.generation) ? stored : mine;
    if (!value) return undefined;
    value = { generation: value.generation, tokens: { ...value.tokens } };
    if (!value.tokens.refreshToken && this.#refreshMode !== 'storage') {
      const kept =
        mine && mine.generation === value.generation ? mine.tokens : this.#readSessionRefresh(key, value.generation);
      if (kept?.refreshToken)
        Object.assign(value.tokens, { refreshToken: kept.refreshToken, refreshExpiresAt: kept.refreshExpiresAt });
    }
    return value;
  }

  async set(key: string, value: StoredTokens): Promise<void> {
    const copy = { generation: value.generation, tokens: { ...value.tokens } };
    if (this.#holding.has(key)) this.#holding.set(key, value.generation);
    this.#mirror.set(key, copy);
    if (this.#storage && this.#writable) {
      try {
        this.#storage.setItem(this.#entry(key), encode(copy, this.#refreshMode === 'storage'));
      } catch (error) {
        this.#degrade(error, 'write');
      }
    }
    if (this.#refreshMode === 'session') this.#writeSessionRefresh(key, copy);
    this.#post({ type: 'set', key, value: copy });
    this.#notify(key, copy);
  }

  async delete(key: string): Promise<void> {
    this.#mirror.delete(key);
    this.#unmark(key);
    try {
      this.#storage?.removeItem(this.#entry(key));
    } catch (error) {
      this.#degrade(error, 'delete');
    }
    if (this.#refreshMode === 'session') this.#writeSessionRefresh(key, undefined);
    this.#post({ type: 'delete', key });
    this.#notify(key, undefined);
  }

  subscribe(key: string, listener: (value: StoredTokens | undefined) => void): () => void {
    let set = this.#listeners.get(key);
    if (!set) this.#listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(key) === set) this.#listeners.delete(key);
    };
  }

  coordinate<T>(
    key: string,
    renew: (latest: StoredTokens | undefined) => Promise<T>,
    opts: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const locks = this.#locks;
    if (!locks) return this.#inTab(key, renew);
    const signal = opts.signal;
    if (signal?.aborted)
      return Promise.reject(new AbortedError('browser-store: aborted while waiting for the renewal lock'));
    // Bounds the wait only: once granted, the renewal runs under the session's own timeouts.
    const waiting = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      waiting.abort();
    }, this.#waitTimeoutMs);
    const onAbort = () => waiting.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    // The browser frees the lock when its holder's tab closes, crashes or navigates away.
    return locks
      .request(`${this.#entry(key)}:renewal`, { signal: waiting.signal }, async () => {
        settle();
        // Another tab may have renewed while this one waited: hand its tokens to `renew`.
        const latest = await this.#latest(key, locks);
        this.#holding.set(key, undefined);
        try {
          return await renew(latest);
        } finally {
          const written = this.#holding.get(key);
          this.#holding.delete(key);
          if (written !== undefined) await this.#mark(key, written, locks);
        }
      })
      .catch((error: unknown) => {
        settle();
        if (timedOut)
          throw new TimeoutError(
            `browser-store: waited ${this.#waitTimeoutMs} ms for another tab to renew the tokens of "${key}"`,
            { timeoutMs: this.#waitTimeoutMs },
          );
        if (waiting.signal.aborted) throw new AbortedError('browser-store: aborted while waiting for the renewal lock');
        throw error;
      }) as Promise<T>;
  }

  /**
   * Storage and channel updates reach other tabs asynchronously, on other paths than the lock grant:
   * a tab granted the lock right after a renewal could still read the old tokens and spend a rotated
   * refresh token. So a renewing tab announces its generation in the lock manager itself (which
   * granted us the lock after it was taken), and a waiter that has not seen it yet waits for it.
   */
  async #mark(key: string, generation: number, locks: LockManager): Promise<void> {
    await new Promise<void>((granted) => {
      locks
        .request(`${this.#entry(key)}:generation:${generation}`, { ifAvailable: true }, (lock) => {
          granted();
          if (!lock) return undefined;
          return new Promise<void>((release) => {
            this.#unmark(key);
            this.#markers.set(key, release);
          });
        })
        .catch(() => granted());
    });
  }

  #unmark(key: string): void {
    const release = this.#markers.get(key);
    this.#markers.delete(key);
    release?.();
  }

  async #latest(key: string, locks: LockManager): Promise<StoredTokens | undefined> {
    let value = this.#current(key);
    const prefix = `${this.#entry(key)}:generation:`;
    let newest: number | undefined;
    try {
      for (const lock of (await locks.query()).held ?? []) {
        if (lock.name?.startsWith(prefix)) newest = Math.max(newest ?? 0, Number(lock.name.slice(prefix.length)));
      }
    } catch {
      return value;
    }
    // Bounded: a marker of an older lineage (tokens deleted and obtained again) must not hold us up for long.
    const deadline = Date.now() + 2_000;
    while (newest !== undefined && !(value && value.generation >= newest) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      value = this.#current(key);
    }
    return value;
  }

  /** Without Web Locks: renewals of one key queue in this tab (sessions sharing the store renew once). */
  #inTab<T>(key: string, renew: (latest: StoredTokens | undefined) => Promise<T>): Promise<T> {
    const run = (this.#queues.get(key) ?? Promise.resolve()).then(
      () => renew(this.#current(key)),
      () => renew(this.#current(key)),
    );
    const tail = run.catch(() => {});
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return run;
  }

  close(): void {
    for (const key of [...this.#markers.keys()]) this.#unmark(key);
    this.#channel?.close();
    if (this.#onStorage) globalThis.removeEventListener?.('storage', this.#onStorage);
    this.#listeners.clear();
  }

  #post(message: Message): void {
    try {
      // The channel stays inside this origin's live tabs (nothing persists): tab-kept refresh tokens travel with it.
      this.#channel?.postMessage(message);
    } catch (error) {
      this.#logger.warn('browser-store: could not tell the other tabs about a change', { error: describe(error) });
    }
  }

  #receive(data: unknown): void {
    const message = data as Partial<Message> | null;
    if (!message || typeof message.key !== 'string') return;
    const key = message.key;
    if (message.type === 'delete') {
      this.#mirror.delete(key);
      this.#unmark(key);
      if (this.#refreshMode === 'session') this.#writeSessionRefresh(key, undefined);
      this.#notify(key, undefined);
    } else if (message.type === 'set' && isStoredTokens(message.value)) {
      const value = { generation: message.value.generation, tokens: { ...message.value.tokens } };
      this.#mirror.set(key, value);
      if (this.#refreshMode === 'session') this.#writeSessionRefresh(key, value);
      this.#notify(key, value);
    }
  }

  #storageEvent(event: StorageEvent): void {
    const prefix = `${this.#prefix}:`;
    if (event.storageArea !== this.#storage || !event.key?.startsWith(prefix)) return;
    const key = event.key.slice(prefix.length);
    if (!this.#listeners.has(key)) return;
    if (event.newValue === null) {
      this.#mirror.delete(key);
      return this.#notify(key, undefined);
    }
    const value = this.#current(key);
    if (value) this.#notify(key, value);
  }

  #notify(key: string, value: StoredTokens | undefined): void {
    for (const listener of [...(this.#listeners.get(key) ?? [])]) {
      try {
        listener(value && { generation: value.generation, tokens: { ...value.tokens } });
      } catch {
        // One broken listener must not keep the others from the change.
      }
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : typeof error;
}
