export { attachAuth } from './attach-auth.js';
export type { AttachAuthOptions } from './attach-auth.js';
export type { RequestLimiter, LimiterOption } from './limiter.js';
export type { RateLimitRetryOptions } from './rate-limit-retry.js';
