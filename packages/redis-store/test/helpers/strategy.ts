import type { Strategy } from '@auth/core';

/**
 * The smallest OpenLoyalty admin strategy (login_check + rotating refresh), so the store's own tests
 * do not depend on another package; the fleet tests use the real `@auth/openloyalty-admin`.
 */
export function olAdmin(baseUrl: string, opts: { max?: number; windowMs?: number; key?: string } = {}): Strategy {
  const key = opts.key ?? `ol:${baseUrl}:admin`;
  return {
    name: 'ol-test',
    origins: [baseUrl],
    authEndpoints: [`${baseUrl}/api/admin/login_check`, `${baseUrl}/api/token/`],
    storeKey: key,
    rateLimit: { key, max: opts.max ?? 20, windowMs: opts.windowMs ?? 60_000 },
    async login({ http }) {
      const { body } = await http<{ token: string; refresh_token: string }>({
        operation: 'login',
        method: 'POST',
        url: `${baseUrl}/api/admin/login_check`,
        json: { username: 'admin', password: 'password' },
      });
      return { accessToken: body.token, refreshToken: body.refresh_token };
    },
    async refresh(tokens, { http }) {
      // 401 on refresh becomes REFRESH_REJECTED in ctx.http: the session then logs in.
      const { body } = await http<{ token: string; refresh_token: string }>({
        operation: 'refresh',
        method: 'POST',
        url: `${baseUrl}/api/token/refresh`,
        json: { refresh_token: tokens.refreshToken },
      });
      return { accessToken: body.token, refreshToken: body.refresh_token };
    },
  };
}
