import { inspect } from 'node:util';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  AuthError,
  createAuthSession,
  type AuthSession,
  type AuthSessionOptions,
  type FixedPassword,
} from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer, type OpenLoyaltyServerOptions } from '@auth/testing';
import { openLoyaltyMember, type OpenLoyaltyMemberOptions } from '@auth/openloyalty-member';

const PASSWORD = 'M3mber-s3cret-passw0rd';
const EMAIL = 'jane@example.com';
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
process.on('warning', onWarning);
afterAll(() => {
  process.off('warning', onWarning);
});

const started: OpenLoyaltyServer[] = [];
const sessions: AuthSession[] = [];
async function start(opts: OpenLoyaltyServerOptions = {}) {
  const s = await createOpenLoyaltyServer({
    stores: {
      default: [
        { username: EMAIL, password: PASSWORD },
        { username: 'joe@example.com', password: PASSWORD },
      ],
    },
    ...opts,
  });
  started.push(s);
  return s;
}
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await Promise.all(started.splice(0).map((s) => s.close()));
});

function session(
  s: OpenLoyaltyServer,
  opts: AuthSessionOptions & { strategy?: Partial<OpenLoyaltyMemberOptions & FixedPassword> } = {},
) {
  const { strategy, ...rest } = opts;
  const sess = createAuthSession(
    openLoyaltyMember({
      baseUrl: s.url,
      storeCode: 'default',
      username: EMAIL,
      password: PASSWORD,
      rateLimit: { windowMs: 1500 },
      ...strategy,
    }),
    {
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      ...rest,
    },
  );
  sessions.push(sess);
  return sess;
}

/** What an adapter does: attach the token, and on a rejection renew once and replay once. */
async function call(sess: AuthSession, url: string): Promise<Response> {
  const tokens = await sess.getToken();
  const res = await fetch(url, { headers: sess.authorize(tokens) });
  if (!sess.isTokenRejected(res)) return res;
  await res.body?.cancel();
  const fresh = await sess.tokenRejected(tokens.accessToken);
  return fetch(url, { headers: sess.authorize(fresh) });
}

function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const deprecations = () =>
  warnings.filter((w) => (w as Error & { code?: string }).code === 'AUTH_OPENLOYALTY_MEMBER_TOKEN');

describe('openLoyaltyMember', () => {
  it('reports the upstream deprecation once per process, not per session or call', async () => {
    const s = await start();
    expect(deprecations()).toHaveLength(0);
    for (let i = 0; i < 3; i += 1) await session(s).login();
    await new Promise((r) => setImmediate(r));
    expect(deprecations()).toHaveLength(1);
    expect(deprecations()[0]!.name).toBe('DeprecationWarning');
    expect(deprecations()[0]!.message).toContain('deprecated');
    expect(s.counters.logins).toBe(3);
  });

  it('logs in at the store endpoint and reads its own member record', async () => {
    const s = await start();
    const sess = session(s);
    const { accessToken } = await sess.getToken();
    const id = decodeJwt(accessToken).id as string;
    expect((await call(sess, `${s.url}/api/default/member/${id}`)).status).toBe(200);
    expect(s.requests[0]).toMatchObject({ method: 'POST', path: '/api/default/member/login_check', status: 200 });
  });

  it('gets 403 on an admin-only route and does not refresh or log in again for it', async () => {
    const s = await start();
    const sess = session(s);
    await sess.getToken();
    const res = await call(sess, `${s.url}/api/default/member`);
    expect(res.status).toBe(403);
    const other = await call(sess, `${s.url}/api/default/member/00000000-0000-4000-8101-000000000002`);
    expect(other.status).toBe(403);
    expect(s.counters).toMatchObject({ logins: 1, refreshes: 0, authCalls: 1, apiForbidden: 2 });
  });

  it('rejects an unknown store with CONFIGURATION (404), not retried, without echoing the password', async () => {
    const s = await start();
    const sess = session(s, { strategy: { storeCode: 'nope' } });
    const error = await sess.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({
      code: 'CONFIGURATION',
      status: 404,
      operation: 'login',
      strategy: 'openloyalty-member',
    });
    for (const text of [(error as Error).message, JSON.stringify(error), inspect(error, { showHidden: true })])
      expect(text).not.toContain(PASSWORD);
    expect(s.requests).toHaveLength(1);
  });

  it('rejects a wrong password with CREDENTIALS_REJECTED, once, without echoing it', async () => {
    const s = await start({ errorBodies: 'bundle' });
    const sess = session(s, { strategy: { password: 'Wr0ng-member-pw' } });
    const error = await sess.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CREDENTIALS_REJECTED', status: 401 });
    for (const text of [(error as Error).message, JSON.stringify(error), inspect(error, { showHidden: true })])
      expect(text).not.toContain('Wr0ng-member-pw');
    expect(s.counters).toMatchObject({ authCalls: 1, loginsRejected: 1 });
  });

  it('puts the store code into the path verbatim, URL-encoded', async () => {
    const code = 'EU/Store ü?#%';
    const s = await start({ stores: { [code]: [{ username: EMAIL, password: PASSWORD }] } });
    const sess = session(s, { strategy: { storeCode: code } });
    await sess.getToken();
    await sess.refresh();
    expect(s.requests.map((r) => r.path)).toEqual([
      `/api/${encodeURIComponent(code)}/member/login_check`,
      `/api/${encodeURIComponent(code)}/token/refresh`,
    ]);
    expect(s.counters).toMatchObject({ logins: 1, refreshes: 1 });
    expect(sess.strategy.rateLimit!.key).toContain(encodeURIComponent(code));
  });

  it('refuses store codes that URL normalisation would resolve away', () => {
    for (const storeCode of ['', '.', '..']) {
      expect(() =>
        openLoyaltyMember({ baseUrl: 'https://x.test', storeCode, username: EMAIL, password: PASSWORD }),
      ).toThrow(expect.objectContaining({ code: 'CONFIGURATION' }));
    }
  });

  it('rotates refresh tokens at the store endpoint and falls back to a login when the refresh token is dead', async () => {
    const s = await start();
    const sess = session(s);
    const first = await sess.getToken();
    const second = await sess.refresh();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const replay = await fetch(`${s.url}/api/default/token/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: first.refreshToken }),
    });
    expect(replay.status).toBe(401);
    s.expireRefreshTokens(EMAIL);
    await sess.refresh();
    expect(s.counters).toMatchObject({ logins: 2, refreshes: 1, refreshesRejected: 2 });
  });

  it('refreshes ahead of expiry with short lifetimes', async () => {
    const s = await start({ accessTokenTtlSec: 2 });
    const sess = session(s);
    const first = await sess.getToken();
    const refreshed = new Promise((resolve) => sess.on('refresh', resolve));
    while (s.counters.refreshes === 0) {
      await sess.getToken();
      await new Promise((r) => setTimeout(r, 50));
    }
    await refreshed;
    expect((await sess.getToken()).accessToken).not.toBe(first.accessToken);
    expect(s.counters).toMatchObject({ logins: 1, refreshes: 1 });
  });

  it('logout revokes the member refresh tokens', async () => {
    const s = await start();
    const sess = session(s);
    await sess.getToken();
    const other = session(s);
    await other.getToken();
    expect(s.liveRefreshTokens(EMAIL)).toBe(2);
    await sess.logout();
    expect(s.counters.revokes).toBe(1);
    expect(s.liveRefreshTokens(EMAIL)).toBe(0);
  });

  it('retries 5xx and treats malformed answers as BAD_RESPONSE', async () => {
    const s = await start();
    s.faults.add({ endpoint: 'member-login', fault: { kind: 'status', status: 502 }, times: 2 });
    const sess = session(s);
    await sess.getToken();
    s.faults.add({ endpoint: 'member-refresh', fault: { kind: 'malformed-json' } });
    await expect(sess.refresh()).rejects.toMatchObject({ code: 'BAD_RESPONSE', operation: 'refresh' });
    await sess.refresh();
    expect(s.counters).toMatchObject({ authCalls: 5, logins: 1, refreshes: 1 });
  });

  it('does not report it again from a second copy of the package (ESM and CJS builds both loaded)', async () => {
    const s = await start();
    vi.resetModules();
    const copy = (await import('@auth/openloyalty-member')) as { openLoyaltyMember: typeof openLoyaltyMember };
    expect(copy.openLoyaltyMember).not.toBe(openLoyaltyMember);
    const sess = createAuthSession(
      copy.openLoyaltyMember({ baseUrl: s.url, storeCode: 'default', username: EMAIL, password: PASSWORD }),
    );
    sessions.push(sess);
    await sess.login();
    await new Promise((r) => setImmediate(r));
    expect(s.counters.logins).toBe(1);
    expect(deprecations()).toHaveLength(1);
  });

  it('still reported the deprecation only once in this process', () => {
    expect(deprecations()).toHaveLength(1);
  });
});
