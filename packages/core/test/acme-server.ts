// A small "imaginary API" with rotating single-use refresh tokens, served over real HTTP on
// 127.0.0.1. The core's end-to-end tests use it; provider-specific servers live in @auth/testing.
import { randomBytes } from 'node:crypto';
import { CallWindow, FaultPlan, bearerToken, listen, readBody, sendJson } from '@auth/testing';

export interface AcmeOptions {
  /** Access token lifetime in seconds. */
  ttlSec?: number;
  /** Whether access tokens are JWTs (with exp) or opaque strings. */
  jwt?: boolean;
  /** Include `exp` in JWTs. */
  withExp?: boolean;
  rateLimit?: { max: number; windowMs: number };
  /** Delay every auth call by this many ms (to widen race windows). */
  authDelayMs?: number;
  /**
   * The `iat`/`exp` written into access JWTs, from the server's now and the token's lifetime (the
   * server itself accepts a token for `ttlSec`). For clocks that are off, or claims that make no sense.
   */
  jwtTimes?: (nowSec: number, ttlSec: number) => { iat?: number; exp?: number };
}

export type AcmeEndpoint = 'login' | 'refresh' | 'api';

export async function startAcme(opts: AcmeOptions = {}) {
  const users = new Map([['alice', 's3cret-passw0rd']]);
  const access = new Map<string, { user: string; exp: number }>();
  const refresh = new Map<string, string>(); // refresh token → user (single-use)
  const faults = new FaultPlan<AcmeEndpoint>();
  const window = new CallWindow(opts.rateLimit?.windowMs ?? 60_000);
  const counters = { logins: 0, refreshes: 0, rejectedRefreshes: 0, apiCalls: 0, api401: 0, tooMany: 0 };

  const issue = (user: string) => {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (opts.ttlSec ?? 3600);
    const id = randomBytes(8).toString('hex');
    const times = opts.jwtTimes
      ? opts.jwtTimes(now, opts.ttlSec ?? 3600)
      : { iat: now, ...(opts.withExp === false ? {} : { exp }) };
    const token = opts.jwt === false ? `opaque-${id}` : jwt({ sub: user, ...times, jti: id });
    access.set(token, { user, exp: exp * 1000 });
    const rt = `rt-${randomBytes(12).toString('hex')}`;
    refresh.set(rt, user);
    return { token, refresh_token: rt };
  };

  const running = await listen(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const endpoint: AcmeEndpoint =
      url.pathname === '/auth/login' ? 'login' : url.pathname === '/auth/refresh' ? 'refresh' : 'api';
    if (await faults.apply(endpoint, res)) return;
    if (endpoint !== 'api') {
      if (opts.authDelayMs) await new Promise((r) => setTimeout(r, opts.authDelayMs));
      const now = Date.now();
      if (opts.rateLimit && window.countRecent(now) >= opts.rateLimit.max) {
        counters.tooMany += 1;
        return sendJson(
          res,
          429,
          { message: 'Too many requests' },
          { 'retry-after': String(Math.ceil(window.msUntilFree(now, opts.rateLimit.max) / 1000)) },
        );
      }
      window.record(now);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { message: 'Invalid JSON.' });
      }
      if (endpoint === 'login') {
        counters.logins += 1;
        const user = String(body.username);
        // Echoes the password back, as a badly behaved server might: the client must not repeat it.
        if (users.get(user) !== body.password)
          return sendJson(res, 401, { message: `Bad credentials for ${user} with password ${String(body.password)}` });
        return sendJson(res, 200, issue(user));
      }
      counters.refreshes += 1;
      const user = refresh.get(String(body.refresh_token));
      if (!user) {
        counters.rejectedRefreshes += 1;
        return sendJson(res, 401, { message: 'Invalid JWT Refresh Token' });
      }
      refresh.delete(String(body.refresh_token));
      return sendJson(res, 200, issue(user));
    }
    counters.apiCalls += 1;
    const t = bearerToken(req);
    const entry = t ? access.get(t) : undefined;
    if (!entry || entry.exp <= Date.now()) {
      counters.api401 += 1;
      return sendJson(res, 401, { message: 'Invalid JWT Token' });
    }
    return sendJson(res, 200, { ok: true, user: entry.user });
  });

  return {
    ...running,
    counters,
    faults,
    window,
    /** Invalidates every issued access token (their `exp` stays in the future). */
    revokeAccess: () => access.clear(),
    /** Kills every refresh token. */
    killRefreshTokens: () => refresh.clear(),
    liveRefreshTokens: () => [...refresh.keys()],
    password: users.get('alice')!,
  };
}

export type Acme = Awaited<ReturnType<typeof startAcme>>;

/** An unsigned-looking JWT: the client never checks signatures, the server keeps its own table. */
export function jwt(claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.${randomBytes(16).toString('base64url')}`;
}
