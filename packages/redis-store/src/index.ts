export { redisTokenStore } from './redis-token-store.js';
export type { RedisTokenStore, RedisTokenStoreOptions } from './redis-token-store.js';
export { redisLimiter } from './redis-limiter.js';
export type { RedisLimiterOptions } from './redis-limiter.js';
export type { EncryptionKey } from './encryption.js';
export { RedisUnavailableError, TokenDecryptionError, StaleWriteError } from './errors.js';
