export { createAuthFetch } from './create-auth-fetch.js';
export type { AuthFetch, AuthFetchOptions, RequestContext } from './create-auth-fetch.js';
export type { RequestLimiter, LimiterOption, RateLimitRetryOptions } from '@auth/core';
