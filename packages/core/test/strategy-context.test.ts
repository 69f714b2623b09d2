import { expect, it } from 'vitest';
import { createAuthSession, type FetchLike, type Strategy } from '@auth/core';

it('hands strategies the session fetch and timeout, for third-party HTTP clients', async () => {
  const seen: string[] = [];
  const sessionFetch: FetchLike = async (input) => {
    seen.push(String(input));
    return new Response(JSON.stringify({ token: 'opaque-token' }), { headers: { 'content-type': 'application/json' } });
  };
  const strategy: Strategy = {
    name: 'third-party',
    origins: ['https://api.example'],
    async login(ctx) {
      expect(ctx.timeoutMs).toBe(1234);
      // A client such as openid-client is given ctx.fetch as its customFetch.
      const res = await ctx.fetch!('https://idp.example/token', { method: 'POST' });
      const body = (await res.json()) as { token: string };
      return { accessToken: body.token };
    },
  };
  const session = createAuthSession(strategy, { fetch: sessionFetch, timeoutMs: 1234 });
  expect((await session.getToken()).accessToken).toBe('opaque-token');
  expect(seen).toEqual(['https://idp.example/token']);
});
