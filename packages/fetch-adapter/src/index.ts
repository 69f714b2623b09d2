export { createAuthFetch } from './create-auth-fetch.js';
export type { AuthFetch, AuthFetchOptions } from './create-auth-fetch.js';
export type { RequestContext } from './context.js';
export type { RequestLimiter, LimiterOption, RateLimitRetryOptions } from '@auth/core';
