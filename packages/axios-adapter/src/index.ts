export { attachAuth } from './attach-auth.js';
export type { AttachAuthOptions } from './attach-auth.js';
export type { RequestLimiter, LimiterOption, RateLimitRetryOptions } from '@auth/core';
