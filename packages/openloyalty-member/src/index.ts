export { openLoyaltyMember } from './member.js';
export type { OpenLoyaltyMemberOptions } from './member.js';
