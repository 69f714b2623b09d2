export { browserTokenStore } from './browser-token-store.js';
export type { BrowserTokenStore, BrowserTokenStoreOptions, StorageLike } from './browser-token-store.js';
