export { openLoyaltyAdmin } from './admin.js';
export type { OpenLoyaltyAdminOptions, OpenLoyaltyAdminInstanceOptions } from './admin.js';
export { openLoyaltyJwt } from './jwt-strategy.js';
export type { OpenLoyaltyJwtOptions, OpenLoyaltyJwtFlowOptions, OpenLoyaltyRateLimitOptions } from './jwt-strategy.js';
