import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenRejectedError, createAuthSession, type AuthSession } from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyEcho, type OpenLoyaltyServer } from '@auth/testing';
import { openLoyaltyApiKey } from '@auth/openloyalty-api-key';

const KEY = 'olk_live_0123456789abcdef';
const started: OpenLoyaltyServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});
async function start() {
  const s = await createOpenLoyaltyServer({ apiKeys: [{ key: KEY }] });
  started.push(s);
  return s;
}

/** What an adapter does: attach the credentials; on a rejection renew once and replay once, then give up. */
async function call(sess: AuthSession, url: string): Promise<Response> {
  const tokens = await sess.getToken();
  const res = await fetch(url, { headers: sess.authorize(tokens) });
  if (!sess.isTokenRejected(res)) return res;
  await res.body?.cancel();
  const fresh = await sess.tokenRejected(tokens.accessToken);
  const again = await fetch(url, { headers: sess.authorize(fresh) });
  if (sess.isTokenRejected(again))
    throw new TokenRejectedError('rejected after one replay', { status: again.status, strategy: sess.strategy.name });
  return again;
}

describe('openLoyaltyApiKey', () => {
  it('sends X-AUTH-TOKEN and makes no auth call', async () => {
    const s = await start();
    const sess = createAuthSession(openLoyaltyApiKey({ baseUrl: s.url, apiKey: KEY }));
    const res = await call(sess, `${s.url}/api/echo`);
    expect(res.status).toBe(200);
    const echo = (await res.json()) as OpenLoyaltyEcho;
    expect(echo.user.kind).toBe('api-key');
    expect(echo.headers['x-auth-token']).toBe('[present]');
    expect(echo.headers.authorization).toBeUndefined();
    expect((await call(sess, `${s.url}/api/default/member`)).status).toBe(200);
    expect(s.counters).toMatchObject({ authCalls: 0, apiCalls: 2, apiRejected: 0 });
    expect(sess.strategy.refresh).toBeUndefined();
    expect(sess.strategy.rateLimit).toBeUndefined();
  });

  it('does not loop on a rejected key: one replay, then TOKEN_REJECTED', async () => {
    const s = await start();
    const sess = createAuthSession(openLoyaltyApiKey({ baseUrl: s.url, apiKey: KEY }));
    await call(sess, `${s.url}/api/echo`);
    s.removeApiKey(KEY);
    const error = await call(sess, `${s.url}/api/echo`).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOKEN_REJECTED', status: 401 });
    expect(s.counters).toMatchObject({ apiCalls: 3, apiRejected: 2, authCalls: 0 });
  });

  it('attaches the key only to the OpenLoyalty origin', async () => {
    const s = await start();
    const sess = createAuthSession(openLoyaltyApiKey({ baseUrl: `${s.url}/`, apiKey: KEY }));
    expect(sess.mayAuthorize(`${s.url}/api/default/member`)).toBe(true);
    expect(sess.mayAuthorize('https://elsewhere.test/api')).toBe(false);
    expect(sess.authorize(await sess.getToken())).toEqual({ 'x-auth-token': KEY });
  });

  it('keeps the key out of the strategy object, its store key and configuration errors', () => {
    const strategy = openLoyaltyApiKey({ baseUrl: 'https://tenant.example.com', apiKey: KEY });
    expect(inspect(strategy, { showHidden: true, depth: 5 })).not.toContain(KEY);
    expect(strategy.storeKey).not.toContain(KEY);
    expect(strategy.storeKey).not.toBe(
      openLoyaltyApiKey({ baseUrl: 'https://tenant.example.com', apiKey: `${KEY}x` }).storeKey,
    );
    for (const bad of [
      { baseUrl: 'nope', apiKey: KEY },
      { baseUrl: 'https://x.test', apiKey: '' },
      { baseUrl: 'https://x.test', apiKey: `${KEY}\r\nx-evil: 1` },
    ]) {
      let error: unknown;
      try {
        openLoyaltyApiKey(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'CONFIGURATION' });
      expect(`${String(error)} ${JSON.stringify(error)} ${inspect(error)}`).not.toContain(KEY);
    }
  });
});
