export { openLoyaltyAdmin } from './admin.js';
export type { OpenLoyaltyAdminOptions } from './admin.js';
export { openLoyaltyJwt } from './jwt-strategy.js';
export type { OpenLoyaltyJwtOptions, OpenLoyaltyRateLimitOptions } from './jwt-strategy.js';
