// The custom-strategy example from the README: a third party's strategy for an imaginary API,
// written against the public interface only. (Kept under 30 lines at 120 columns; a test checks that.)
import type { Strategy } from '@auth/core';

type Options = { baseUrl: string; username: string; password: string; rateLimit?: { max: number; windowMs: number } };

export function acmeStrategy(opts: Options): Strategy {
  const url = (path: string) => new URL(path, opts.baseUrl).toString();
  const toTokens = (body: { token?: unknown; refresh_token?: unknown }) => ({
    accessToken: body.token as string,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
  });
  return {
    name: 'acme',
    origins: [new URL(opts.baseUrl).origin],
    authEndpoints: [url('/auth')],
    rateLimit: opts.rateLimit && { key: `acme:${opts.baseUrl}:${opts.username}`, ...opts.rateLimit },
    async login({ http }) {
      const json = { username: opts.username, password: opts.password };
      const { body } = await http<{ token?: unknown }>({ operation: 'login', url: url('/auth/login'), json });
      return toTokens(body);
    },
    async refresh(tokens, { http }) {
      const json = { refresh_token: tokens.refreshToken };
      const { body } = await http<{ token?: unknown }>({ operation: 'refresh', url: url('/auth/refresh'), json });
      return toTokens(body);
    },
  };
}
