import type { TokenSet } from './token-set.js';

/** What a store holds for one key: the tokens and a generation that grows with every change. */
export interface StoredTokens {
  tokens: TokenSet;
  /** Increases with every write; lets a session tell newer tokens (another process's) from its own. */
  generation: number;
}

/**
 * Where a session keeps its tokens. Async so that it can be Redis, a file, a browser's storage.
 * Rotated refresh tokens are written here before anything uses them.
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
  coordinate?<T>(key: string, renew: (latest: StoredTokens | undefined) => Promise<T>, opts?: { signal?: AbortSignal }): Promise<T>;
}

/** The default store: a Map in this process. */
export function memoryTokenStore(): TokenStore {
  const map = new Map<string, StoredTokens>();
  return {
    async get(key) {
      const v = map.get(key);
      return v && { tokens: { ...v.tokens }, generation: v.generation };
    },
    async set(key, value) {
      map.set(key, { tokens: { ...value.tokens }, generation: value.generation });
    },
    async delete(key) {
      map.delete(key);
    },
  };
}
