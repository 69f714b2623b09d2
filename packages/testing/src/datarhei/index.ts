export { createDatarheiServer } from './server.js';
export type { DatarheiServer, DatarheiServerOptions, DatarheiCounters, DatarheiEndpoint } from './server.js';
export type { DatarheiAuth0Tenant } from './auth0.js';
