export { createAuthSession } from './session.js';
export type { AuthSession, AuthSessionOptions, GetTokenOptions } from './session.js';
export { defineStrategy, bearer, defaultIsTokenRejected } from './strategy.js';
export type { Strategy, StrategyContext, RateLimitSpec, ResponseInfo } from './strategy.js';
export { readJwtTimes, completeTokenSet, renewAt, EXPIRED_ON_ARRIVAL_FLOOR_MS } from './token-set.js';
export type { TokenSet, JwtTimes, RefreshAheadOptions, CompleteTokenSetOptions } from './token-set.js';
export { passwordSource } from './credentials.js';
export type {
  Credentials,
  CredentialsCallback,
  FixedPassword,
  PasswordOnDemand,
  PasswordOptions,
  PasswordSource,
} from './credentials.js';
export { memoryTokenStore } from './token-store.js';
export type { TokenStore, StoredTokens } from './token-store.js';
export { createAuthHttp, classifyStatus, parseRetryAfter, describeUrl } from './http.js';
export type { AuthHttp, AuthRequest, AuthResponse, FetchLike, StatusOutcome } from './http.js';
export { slidingWindowLimiter, sharedLimiter, pausedError, MAX_PAUSE_MS } from './rate-limit.js';
export type { AuthLimiter, AuthLimiterFactory, ScheduleOptions } from './rate-limit.js';
export { sleep, abortReason } from './sleep.js';
export { retryDelay } from './retry.js';
export type { RetryOptions } from './retry.js';
export { OriginPolicy, originOf, sameEntries, httpBaseUrl } from './origins.js';
export { silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export type { AuthEvents, AuthEventName, AuthEventHandler } from './events.js';
export { redact, requestSecrets } from './redact.js';
export {
  AuthError,
  CredentialsRejectedError,
  CredentialsRequiredError,
  RefreshRejectedError,
  RateLimitedError,
  NetworkError,
  TimeoutError,
  ServerError,
  BadResponseError,
  AbortedError,
  ConfigurationError,
  TokenRejectedError,
  TokenStoreError,
  isAuthError,
  withContext,
} from './errors.js';
export type { AuthErrorCode, AuthErrorOptions, AuthOperation, KnownAuthError } from './errors.js';
export { toRetryPolicy, rateLimitWait, waitUnlessAborted, toLimiter, acquireSlot } from './request-pacing.js';
export type { RateLimitRetryOptions, RetryPolicy, RequestLimiter, LimiterOption } from './request-pacing.js';
export { RequestFlow, RequestRun, replayableBody, absoluteUrl, hidesManualRedirects } from './request-flow.js';
export type { RequestFlowOptions, RunOptions, AuthHeaders, Verdict } from './request-flow.js';
