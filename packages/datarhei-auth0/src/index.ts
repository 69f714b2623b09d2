export { datarheiAuth0 } from './strategy.js';
export type { DatarheiAuth0Options } from './strategy.js';
export type {
  Auth0TenantOptions,
  Auth0ClientCredentialsOptions,
  Auth0RefreshTokenOptions,
  Auth0GetToken,
  Auth0TokenResult,
} from './auth0-token.js';
