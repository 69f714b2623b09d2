export { datarheiPassword } from './strategy.js';
export type { DatarheiPasswordOptions, DatarheiCoreOptions } from './strategy.js';
// Building blocks of any datarhei Core strategy (used by @auth/datarhei-auth0).
export {
  coreEndpoints,
  coreLoginTimeout,
  CORE_LOGIN_MIN_TIMEOUT_MS,
  readTokenPair,
  refreshCoreToken,
  isCoreTokenRejected,
} from './core-api.js';
export type { CoreEndpoints } from './core-api.js';
