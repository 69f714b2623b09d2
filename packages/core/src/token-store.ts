import type { TokenSet } from './token-set.js';

/**
 * What a store holds for one key: the tokens and a generation that grows with every change.
 *
 * @example
 * await store.set('acme', { tokens: { accessToken: 'abc' }, generation: 1 } satisfies StoredTokens);
 */
export interface StoredTokens {
  tokens: TokenSet;
  /** Increases with every write; lets a session tell newer tokens (another process's) from its own. */
  generation: number;
}

/**
 * Where a session keeps its tokens. Async so that it can be Redis, a file, a browser's storage.
 * Rotated refresh tokens are written here before anything uses them.
 *
 * @example
 * const files = new Map<string, string>(); // stands in for a file system or a database
 * const store: TokenStore = {
 *   get: async (key) => (files.has(key) ? (JSON.parse(files.get(key)!) as StoredTokens) : undefined),
 *   set: async (key, value) => void files.set(key, JSON.stringify(value)),
 *   delete: async (key) => void files.delete(key),
 * };
 */
export interface TokenStore {
  get(key: string): Promise<StoredTokens | undefined>;
  set(key: string, value: StoredTokens): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Optional: run `renew` so that only one holder of the store (one process of a fleet) renews the
   * tokens for `key` at a time. `renew` gets the newest stored value, so a holder that waited can
   * use what another one obtained instead of renewing again. Stores without it renew per process.
   */
  coordinate?<T>(
    key: string,
    renew: (latest: StoredTokens | undefined) => Promise<T>,
    opts?: { signal?: AbortSignal },
  ): Promise<T>;
  /**
   * Optional: call `listener` whenever the value of `key` changes, with the new value (`undefined`
   * once deleted), including changes made by other holders (another browser tab). A session
   * subscribes when created and adopts newer generations at once, and forgets its tokens when they
   * are deleted (a logout elsewhere). The listener may also be called for the holder's own writes;
   * the session ignores those. Returns the unsubscribe function.
   */
  subscribe?(key: string, listener: (value: StoredTokens | undefined) => void): () => void;
}

/**
 * The default store: a Map in this process. Pass one to several sessions to let them share tokens.
 *
 * @example
 * const store = memoryTokenStore();
 * const a = createAuthSession(strategy, { store });
 * const b = createAuthSession(strategy, { store }); // same storeKey: sees the tokens `a` obtained
 */
export function memoryTokenStore(): TokenStore {
  const map = new Map<string, StoredTokens>();
  // Renewals per key run one after another, so sessions sharing this store renew once between them
  // (with rotating single-use refresh tokens, two at once would lock each other out).
  const queues = new Map<string, Promise<unknown>>();
  const listeners = new Map<string, Set<(value: StoredTokens | undefined) => void>>();
  const notify = (key: string, value: StoredTokens | undefined) => {
    for (const listener of [...(listeners.get(key) ?? [])]) {
      try {
        listener(value && { tokens: { ...value.tokens }, generation: value.generation });
      } catch {
        // One broken listener must not keep the others (or the writer) from the change.
      }
    }
  };
  const get = async (key: string): Promise<StoredTokens | undefined> => {
    const v = map.get(key);
    return v && { tokens: { ...v.tokens }, generation: v.generation };
  };
  return {
    get,
    async set(key, value) {
      map.set(key, { tokens: { ...value.tokens }, generation: value.generation });
      notify(key, value);
    },
    async delete(key) {
      const had = map.delete(key);
      if (had) notify(key, undefined);
    },
    subscribe(key, listener) {
      let set = listeners.get(key);
      if (!set) listeners.set(key, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
      };
    },
    coordinate(key, renew) {
      const run = (queues.get(key) ?? Promise.resolve()).then(
        () => get(key).then(renew),
        () => get(key).then(renew),
      );
      const tail = run.catch(() => {});
      queues.set(key, tail);
      void tail.then(() => {
        if (queues.get(key) === tail) queues.delete(key);
      });
      return run;
    },
  };
}
