export { createOpenLoyaltyServer } from './server.js';
export type {
  OpenLoyaltyServer,
  OpenLoyaltyServerOptions,
  OpenLoyaltyUser,
  OpenLoyaltyApiKey,
  OpenLoyaltyEndpoint,
  OpenLoyaltyCounters,
  OpenLoyaltyRequestRecord,
  OpenLoyaltyEcho,
} from './server.js';
