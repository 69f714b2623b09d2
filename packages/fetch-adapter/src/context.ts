import { isAuthError } from '@auth/core';

/**
 * What an auth error says about the request it stopped: no headers, no body.
 *
 * @example
 * try {
 *   await authFetch(url);
 * } catch (error) {
 *   if (isAuthError(error)) console.error(error.code, (error as AuthError & { request?: RequestContext }).request?.url);
 * }
 */
export interface RequestContext {
  method: string;
  url: string;
}

/**
 * A copy of the core's error (the same class and `code`) with `request` attached. The session hands
 * one error object to every caller that shared a renewal, so it is never mutated.
 */
export function withRequest(error: unknown, request: RequestContext): unknown {
  if (!isAuthError(error)) return error;
  const copy = Object.create(Object.getPrototypeOf(error) as object, Object.getOwnPropertyDescriptors(error)) as object;
  Object.defineProperty(copy, 'request', { value: request, enumerable: false, writable: true, configurable: true });
  return copy;
}
