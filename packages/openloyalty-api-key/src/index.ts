export { openLoyaltyApiKey } from './api-key.js';
export type { OpenLoyaltyApiKeyOptions } from './api-key.js';
