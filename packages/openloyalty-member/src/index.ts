export { openLoyaltyMember } from './member.js';
export type { OpenLoyaltyMemberOptions, OpenLoyaltyMemberStoreOptions } from './member.js';
