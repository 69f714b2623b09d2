import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultPlan } from '../faults.js';
import { bearerToken, listen, readRawBody, sendJson } from '../server-kit.js';
import { CallWindow } from '../window.js';
import { TokenIssuer, type Principal } from './tokens.js';

/**
 * An account the server knows.
 *
 * @example
 * await createOpenLoyaltyServer({ admins: [{ username: 'alice@example.com', password: 's3cret' }] });
 */
export interface OpenLoyaltyUser {
  username: string;
  password: string;
  /** User id placed in the JWT's `id` claim. Default: a fixed UUID derived from the position. */
  id?: string;
  /** Default `['ROLE_ADMIN']` for admins, `['ROLE_PARTICIPANT']` for members. */
  roles?: string[];
}

/**
 * An API key (`X-AUTH-TOKEN` header or `?auth_token=`), acting as the admin it belongs to.
 *
 * @example
 * await createOpenLoyaltyServer({ apiKeys: [{ key: 'olk_test_123', expiresAt: Date.now() + 60_000 }] });
 */
export interface OpenLoyaltyApiKey {
  key: string;
  /** Admin the key belongs to. Default: the first admin. */
  username?: string;
  /** Expiry, ms since the epoch. Default: never. */
  expiresAt?: number;
}

/**
 * The endpoints faults can target. `'api'` is every protected route (samples and echo).
 *
 * @example
 * const endpoint: OpenLoyaltyEndpoint = 'member-refresh';
 * server.faults.add({ endpoint, fault: { kind: 'reset' } });
 */
export type OpenLoyaltyEndpoint = 'login' | 'refresh' | 'member-login' | 'member-refresh' | 'revoke' | 'api';

/**
 * Options of {@link createOpenLoyaltyServer}. Everything is optional.
 *
 * @example
 * const options: OpenLoyaltyServerOptions = { accessTokenTtlSec: 3, rateLimit: { max: 20, windowMs: 1500 }, errorBodies: 'bundle' };
 * const server = await createOpenLoyaltyServer(options);
 */
export interface OpenLoyaltyServerOptions {
  /** Port on 127.0.0.1. Default 0 (ephemeral). */
  port?: number;
  /** Admin accounts. Default: one, `admin` / `password`. */
  admins?: OpenLoyaltyUser[];
  /**
   * Stores and their members, by store code (matched verbatim, case-sensitive). Default:
   * `{ default: [{ username: 'member@example.com', password: 'password' }] }`. Any other code is 404.
   */
  stores?: Record<string, OpenLoyaltyUser[]>;
  /** API keys accepted on protected routes. Default none. */
  apiKeys?: OpenLoyaltyApiKey[];
  /** Access token lifetime in seconds. Default 86 400 (24 h); use a few seconds in tests. */
  accessTokenTtlSec?: number;
  /** Refresh token lifetime in seconds. Default 2 592 000 (30 days). */
  refreshTokenTtlSec?: number;
  /**
   * Limit of the admin `login_check` and `token/refresh` endpoints (one shared budget), answered with
   * 429 and `Retry-After`. Default 20 per 60 000 ms; `false` for none.
   */
  rateLimit?:
    | {
        max?: number;
        windowMs?: number;
        /** `'server'` (default): one budget for all callers; `'account'`: one per username. */
        scope?: 'server' | 'account';
        /** Also limit the member login and refresh endpoints. Default false (upstream documents no number for them). */
        includeMember?: boolean;
        /** Send `Retry-After` with the 429. Default true. */
        retryAfter?: boolean;
      }
    | false;
  /**
   * Which documented 401 body bad credentials get: `'spec'` (default) `{"message":"Bad credentials."}`,
   * or `'bundle'` `{"code":401,"message":"Invalid credentials."}` with `WWW-Authenticate: Bearer`
   * (refresh failures then say `JWT Refresh Token Not Found` / `Invalid JWT Refresh Token`).
   */
  errorBodies?: 'spec' | 'bundle';
  /** The server's clock (ms since the epoch). Default `Date.now`; shift it to simulate clock skew. */
  now?: () => number;
}

/**
 * Counters a test can read (live values) and zero with `resetCounters()`.
 *
 * @example
 * expect(server.counters).toMatchObject({ logins: 1, refreshes: 0, rateLimited: 0 });
 * expect(server.counters.maxAuthCallsInWindow).toBeLessThanOrEqual(20);
 */
export interface OpenLoyaltyCounters {
  /** Calls that reached a login or refresh endpoint (admin or member), whatever the answer. */
  authCalls: number;
  /** Successful logins (admin and member). */
  logins: number;
  /** Successful refreshes (admin and member). */
  refreshes: number;
  /** Login calls answered 401 (bad credentials). */
  loginsRejected: number;
  /** Refresh calls answered 401 (unknown, used, expired or revoked refresh token). */
  refreshesRejected: number;
  /** Auth calls answered 400 (malformed JSON, missing field, wrong content type). */
  badRequests: number;
  /** Auth calls rejected: `loginsRejected + refreshesRejected`. */
  rejectedAuthCalls: number;
  /** 429 answers. */
  rateLimited: number;
  /** Successful `GET /api/token/revoke` calls. */
  revokes: number;
  /** Revoke calls answered 401 (missing, expired, invalid or revoked token). */
  revokesRejected: number;
  /** Calls to protected routes (samples and echo), whatever the answer. */
  apiCalls: number;
  /** Protected calls (not revoke) answered 401 (missing, expired, invalid or revoked token or key). */
  apiRejected: number;
  /** Protected calls answered 403 (wrong kind of token). */
  apiForbidden: number;
  /** Largest number of auth calls (login + refresh, admin + member) that arrived within any window of the rate limit's length. */
  readonly maxAuthCallsInWindow: number;
}

/**
 * One request the server saw (no bodies or tokens).
 *
 * @example
 * const paths = server.requests.map((r: OpenLoyaltyRequestRecord) => `${r.method} ${r.path} ${r.status}`);
 */
export interface OpenLoyaltyRequestRecord {
  method: string;
  path: string;
  endpoint: OpenLoyaltyEndpoint | 'other';
  status: number;
  at: number;
}

/**
 * What an echo call (`ANY /api/echo`) answers.
 *
 * @example
 * const echo = (await (await fetch(`${server.url}/api/echo`, { method: 'POST', headers, body: 'x' })).json()) as OpenLoyaltyEcho;
 * expect(echo.body).toBe('x');
 */
export interface OpenLoyaltyEcho {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  contentType: string | null;
  /** The raw body: UTF-8 text, or base64 when it is not valid UTF-8. `''` when empty. */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  /** Request headers; `authorization` and `x-auth-token` are replaced by `[present]`. */
  headers: Record<string, string | string[] | undefined>;
  /** Who the token belongs to. */
  user: { kind: 'admin' | 'member' | 'api-key'; username: string };
}

/**
 * A running reference OpenLoyalty server.
 *
 * @example
 * const server: OpenLoyaltyServer = await createOpenLoyaltyServer();
 * server.revokeAccessTokens('admin'); // unexpired tokens now get 401
 * await server.close();
 */
export interface OpenLoyaltyServer {
  /** `http://127.0.0.1:<port>`: the strategies' `baseUrl`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
  /** Live counters. */
  readonly counters: OpenLoyaltyCounters;
  /** Zeroes the counters and the rate-limit statistics (not the limiter itself). */
  resetCounters(): void;
  /** Requests seen, oldest first (at most the last 10 000). */
  readonly requests: readonly OpenLoyaltyRequestRecord[];
  /**
   * Faults for the next calls of an endpoint (`'*'` for any).
   *
   * @example
   * server.faults.add({ endpoint: 'refresh', fault: { kind: 'status', status: 503 }, times: 2 });
   */
  readonly faults: FaultPlan<OpenLoyaltyEndpoint | '*'>;
  /** Makes every access token issued so far to `username` (every user when omitted) invalid, though unexpired. Returns how many. */
  revokeAccessTokens(username?: string): number;
  /** Kills every refresh token of `username` (every user when omitted). Returns how many. */
  expireRefreshTokens(username?: string): number;
  /** Live refresh tokens of `username` (every user when omitted). */
  liveRefreshTokens(username?: string): number;
  /** Changes an admin's or member's password (every account with that username). */
  setPassword(username: string, password: string): void;
  /** Adds or replaces an API key. */
  addApiKey(key: OpenLoyaltyApiKey): void;
  /** Removes an API key: it is answered 401 from now on. */
  removeApiKey(key: string): void;
  /**
   * Issues tokens without going through the endpoints (not counted, not limited): for tests that
   * start from imported tokens, or need an already-expired one (`accessTokenTtlSec: -10`).
   */
  issueTokens(opts: { username: string; store?: string; accessTokenTtlSec?: number }): Promise<{ token: string; refresh_token: string }>;
}

const ADMIN_ROLES = ['ROLE_ADMIN'];
const MEMBER_ROLES = ['ROLE_PARTICIPANT'];

/**
 * Starts a real HTTP server on 127.0.0.1 that speaks OpenLoyalty's authentication protocol as
 * described in the project's wire contracts: admin and member `login_check`, rotating single-use
 * refresh tokens, revoke, the 20-per-minute limit with 429 + `Retry-After`, RS256 JWTs, API keys,
 * protected sample routes and an echo route, with fault injection and counters.
 *
 * Routes:
 * - `POST /api/admin/login_check`, `POST /api/token/refresh`, `GET /api/token/revoke`
 * - `POST /api/{storeCode}/member/login_check`, `POST /api/{storeCode}/token/refresh` (404 for an unknown store)
 * - `GET /api/{storeCode}/member`: admin only (members get 403)
 * - `GET /api/{storeCode}/member/{memberId}`: admins, or the member itself (others get 403)
 * - `ANY /api/echo`: any valid token or API key; answers {@link OpenLoyaltyEcho}
 *
 * @example
 * import { createOpenLoyaltyServer } from '@auth/testing';
 * const server = await createOpenLoyaltyServer({ accessTokenTtlSec: 5, rateLimit: { max: 20, windowMs: 1500 } });
 * const res = await fetch(`${server.url}/api/admin/login_check`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ username: 'admin', password: 'password' }),
 * });
 * console.log(res.status, server.counters.logins); // 200 1
 * await server.close();
 */
export async function createOpenLoyaltyServer(options: OpenLoyaltyServerOptions = {}): Promise<OpenLoyaltyServer> {
  const now = options.now ?? Date.now;
  const admins = (options.admins ?? [{ username: 'admin', password: 'password' }]).map((u, i) => ({ ...u, id: u.id ?? fixedId(1, i), roles: u.roles ?? ADMIN_ROLES }));
  const stores = new Map<string, Required<OpenLoyaltyUser>[]>();
  let storeIndex = 0;
  for (const [code, members] of Object.entries(options.stores ?? { default: [{ username: 'member@example.com', password: 'password' }] })) {
    storeIndex += 1;
    stores.set(code, members.map((u, i) => ({ ...u, id: u.id ?? fixedId(100 + storeIndex, i), roles: u.roles ?? MEMBER_ROLES })));
  }
  const apiKeys = new Map<string, OpenLoyaltyApiKey>((options.apiKeys ?? []).map((k) => [k.key, k]));
  const bundle = options.errorBodies === 'bundle';
  const limit = options.rateLimit === false ? undefined : { max: 20, windowMs: 60_000, scope: 'server' as const, includeMember: false, retryAfter: true, ...options.rateLimit };
  const issuer = await TokenIssuer.create(options.accessTokenTtlSec ?? 86_400, options.refreshTokenTtlSec ?? 2_592_000, now);
  const faults = new FaultPlan<OpenLoyaltyEndpoint | '*'>();
  const statsWindow = new CallWindow(limit?.windowMs ?? 60_000);
  const limiters = new Map<string, CallWindow>();
  const requests: OpenLoyaltyRequestRecord[] = [];

  const zero = () => ({ authCalls: 0, logins: 0, refreshes: 0, loginsRejected: 0, refreshesRejected: 0, badRequests: 0, rateLimited: 0, revokes: 0, revokesRejected: 0, apiCalls: 0, apiRejected: 0, apiForbidden: 0 });
  let c = zero();
  const counters: OpenLoyaltyCounters = {
    get authCalls() { return c.authCalls; },
    get logins() { return c.logins; },
    get refreshes() { return c.refreshes; },
    get loginsRejected() { return c.loginsRejected; },
    get refreshesRejected() { return c.refreshesRejected; },
    get badRequests() { return c.badRequests; },
    get rejectedAuthCalls() { return c.loginsRejected + c.refreshesRejected; },
    get rateLimited() { return c.rateLimited; },
    get revokes() { return c.revokes; },
    get revokesRejected() { return c.revokesRejected; },
    get apiCalls() { return c.apiCalls; },
    get apiRejected() { return c.apiRejected; },
    get apiForbidden() { return c.apiForbidden; },
    get maxAuthCallsInWindow() { return statsWindow.maxInAnyWindow; },
  };

  const byName = (username?: string) => (p: Principal) => username === undefined || p.username === username;

  const send = (res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>) => sendJson(res, status, body, headers);
  const badCredentials = (res: ServerResponse) =>
    bundle ? send(res, 401, { code: 401, message: 'Invalid credentials.' }, { 'www-authenticate': 'Bearer' }) : send(res, 401, { message: 'Bad credentials.' });
  const refreshRejected = (res: ServerResponse, why: 'not-found' | 'expired') =>
    bundle ? send(res, 401, { code: 401, message: why === 'expired' ? 'Invalid JWT Refresh Token' : 'JWT Refresh Token Not Found' }) : send(res, 401, { message: 'Bad credentials.' });
  const badRequest = (res: ServerResponse, message: string) => {
    c.badRequests += 1;
    send(res, 400, { code: 400, message });
  };
  const unauthorized = (res: ServerResponse, message: string, endpoint: 'api' | 'revoke') => {
    if (endpoint === 'revoke') c.revokesRejected += 1;
    else c.apiRejected += 1;
    send(res, 401, { code: 401, message }, { 'www-authenticate': 'Bearer' });
  };
  const forbidden = (res: ServerResponse) => {
    c.apiForbidden += 1;
    send(res, 403, { code: 403, message: 'Forbidden.' });
  };

  /** Reads a JSON object body with the given string fields; answers 400 itself and returns undefined otherwise. */
  async function jsonFields<K extends string>(req: IncomingMessage, res: ServerResponse, fields: K[]): Promise<Record<K, string> | undefined> {
    const raw = await readRawBody(req);
    const type = req.headers['content-type'] ?? '';
    if (!/json/i.test(type)) return void badRequest(res, 'Invalid content type: expected application/json.');
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return void badRequest(res, 'Invalid JSON.');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return void badRequest(res, 'Invalid JSON.');
    for (const f of fields) {
      if (typeof (body as Record<string, unknown>)[f] !== 'string') return void badRequest(res, `The key "${f}" must be provided.`);
    }
    return body as Record<K, string>;
  }

  /** True when the call may go on; answers 429 itself otherwise. */
  function withinLimit(res: ServerResponse, account: string): boolean {
    if (!limit) return true;
    const key = limit.scope === 'account' ? account : '';
    let window = limiters.get(key);
    if (!window) limiters.set(key, (window = new CallWindow(limit.windowMs)));
    const t = now();
    if (window.countRecent(t) >= limit.max) {
      c.rateLimited += 1;
      const headers: Record<string, string> = limit.retryAfter ? { 'retry-after': String(Math.max(1, Math.ceil(window.msUntilFree(t, limit.max) / 1000))) } : {};
      send(res, 429, { code: 429, message: 'Too Many Requests' }, headers);
      return false;
    }
    window.record(t);
    return true;
  }

  async function login(req: IncomingMessage, res: ServerResponse, store: string | undefined): Promise<void> {
    const limited = store === undefined || limit?.includeMember === true;
    const body = await jsonFields(req, res, ['username', 'password']);
    if (!body) return;
    if (limited && !withinLimit(res, body.username)) return;
    const users = store === undefined ? admins : stores.get(store)!;
    const user = users.find((u) => u.username === body.username && u.password === body.password);
    if (!user) {
      c.loginsRejected += 1;
      return badCredentials(res);
    }
    c.logins += 1;
    send(res, 200, await issuer.issue({ kind: store === undefined ? 'admin' : 'member', username: user.username, id: user.id, roles: user.roles, store }));
  }

  async function refresh(req: IncomingMessage, res: ServerResponse, store: string | undefined): Promise<void> {
    const limited = store === undefined || limit?.includeMember === true;
    const body = await jsonFields(req, res, ['refresh_token']);
    if (!body) return;
    const owner = issuer.ownerOfRefresh(body.refresh_token)?.username ?? '';
    if (limited && !withinLimit(res, owner)) return;
    const found = issuer.consumeRefresh(body.refresh_token, (p) => (store === undefined ? p.kind === 'admin' : p.kind === 'member' && p.store === store));
    if ('error' in found) {
      c.refreshesRejected += 1;
      return refreshRejected(res, found.error);
    }
    c.refreshes += 1;
    send(res, 200, await issuer.issue(found.principal));
  }

  /** The caller behind a protected request: answers 401 itself and returns undefined when there is none. */
  async function authenticate(req: IncomingMessage, url: URL, res: ServerResponse, endpoint: 'api' | 'revoke' = 'api'): Promise<{ kind: 'admin' | 'member' | 'api-key'; principal: Principal } | undefined> {
    const headerKey = req.headers['x-auth-token'];
    const key = (Array.isArray(headerKey) ? headerKey[0] : headerKey) ?? url.searchParams.get('auth_token') ?? undefined;
    if (key !== undefined) {
      const found = apiKeys.get(key);
      if (!found || (found.expiresAt !== undefined && found.expiresAt <= now())) return void unauthorized(res, 'Invalid API key.', endpoint);
      const admin = (found.username !== undefined ? admins.find((a) => a.username === found.username) : admins[0]) ?? { username: found.username ?? 'api', id: fixedId(9, 0), roles: ADMIN_ROLES };
      return { kind: 'api-key', principal: { kind: 'admin', username: admin.username, id: admin.id, roles: admin.roles } };
    }
    const token = bearerToken(req);
    if (token === undefined) return void unauthorized(res, 'Authentication Required', endpoint);
    const result = await issuer.verify(token);
    if (!result.ok) return void unauthorized(res, result.reason === 'expired' ? 'Expired JWT Token' : 'Invalid JWT Token', endpoint);
    return { kind: result.principal.kind, principal: result.principal };
  }

  function record(req: IncomingMessage, path: string, endpoint: OpenLoyaltyEndpoint | 'other', res: ServerResponse): void {
    const entry: OpenLoyaltyRequestRecord = { method: req.method ?? 'GET', path, endpoint, status: 0, at: now() };
    requests.push(entry);
    if (requests.length > 10_000) requests.shift();
    res.on('finish', () => (entry.status = res.statusCode));
    res.on('close', () => {
      if (entry.status === 0) entry.status = res.headersSent ? res.statusCode : -1;
    });
  }

  const running = await listen(
    async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = (req.method ?? 'GET').toUpperCase();
      const segments = url.pathname.split('/').slice(1);
      let parts: string[];
      try {
        parts = segments.map((s) => decodeURIComponent(s));
      } catch {
        return send(res, 404, { code: 404, message: 'Not Found' });
      }
      const route = matchRoute(parts);
      record(req, url.pathname, route?.endpoint ?? 'other', res);
      if (!route) return send(res, 404, { code: 404, message: 'Not Found' });
      if (route.method !== 'ANY' && route.method !== method) return send(res, 405, { code: 405, message: 'Method Not Allowed' }, { allow: route.method });
      const isAuth = route.endpoint !== 'revoke' && route.endpoint !== 'api';
      if (isAuth) {
        c.authCalls += 1;
        statsWindow.record(now());
      } else if (route.endpoint === 'api') c.apiCalls += 1;
      if (await faults.apply(route.endpoint, res)) return;
      if (route.store !== undefined && !stores.has(route.store)) return send(res, 404, { code: 404, message: 'Not Found' });
      switch (route.name) {
        case 'admin-login':
          return login(req, res, undefined);
        case 'member-login':
          return login(req, res, route.store);
        case 'admin-refresh':
          return refresh(req, res, undefined);
        case 'member-refresh':
          return refresh(req, res, route.store);
        case 'revoke': {
          const who = await authenticate(req, url, res, 'revoke');
          if (!who) return;
          issuer.dropRefreshTokens((p) => p.kind === who.principal.kind && p.username === who.principal.username && p.store === who.principal.store);
          c.revokes += 1;
          res.writeHead(204);
          return void res.end();
        }
        case 'members-list': {
          const who = await authenticate(req, url, res);
          if (!who) return;
          if (who.principal.kind !== 'admin') return forbidden(res);
          const members = stores.get(route.store!)!;
          return send(res, 200, { items: members.map((m) => ({ customerId: m.id, email: m.username })), total: { all: members.length, filtered: members.length } });
        }
        case 'member-get': {
          const who = await authenticate(req, url, res);
          if (!who) return;
          const member = stores.get(route.store!)!.find((m) => m.id === route.memberId);
          if (who.principal.kind !== 'admin' && !(who.principal.store === route.store && who.principal.id === route.memberId)) return forbidden(res);
          if (!member) return send(res, 404, { code: 404, message: 'Not Found' });
          return send(res, 200, { customerId: member.id, email: member.username, storeCode: route.store });
        }
        case 'echo': {
          const who = await authenticate(req, url, res);
          if (!who) return;
          const raw = await readRawBody(req);
          const text = raw.toString('utf8');
          const utf8 = Buffer.from(text, 'utf8').equals(raw);
          const query: Record<string, string | string[]> = {};
          for (const [k, v] of url.searchParams) {
            const prev = query[k];
            query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
          }
          const headers: Record<string, string | string[] | undefined> = { ...req.headers };
          for (const h of ['authorization', 'x-auth-token']) if (headers[h] !== undefined) headers[h] = '[present]';
          const echo: OpenLoyaltyEcho = {
            method,
            path: url.pathname,
            query,
            contentType: req.headers['content-type'] ?? null,
            body: utf8 ? text : raw.toString('base64'),
            bodyEncoding: utf8 ? 'utf8' : 'base64',
            headers,
            user: { kind: who.kind, username: who.principal.username },
          };
          return send(res, 200, echo);
        }
      }
    },
    { port: options.port ?? 0 },
  );

  return {
    url: running.url,
    port: running.port,
    close: () => running.close(),
    counters,
    resetCounters() {
      c = zero();
      statsWindow.reset();
      requests.length = 0;
    },
    requests,
    faults,
    revokeAccessTokens: (username) => issuer.revokeAccess(byName(username)),
    expireRefreshTokens: (username) => issuer.dropRefreshTokens(byName(username)),
    liveRefreshTokens: (username) => issuer.liveRefreshTokens(byName(username)),
    setPassword(username, password) {
      for (const list of [admins, ...stores.values()]) for (const u of list) if (u.username === username) u.password = password;
    },
    addApiKey(key) {
      apiKeys.set(key.key, { ...key });
    },
    removeApiKey(key) {
      apiKeys.delete(key);
    },
    async issueTokens({ username, store, accessTokenTtlSec }) {
      const user = store === undefined ? admins.find((a) => a.username === username) : stores.get(store)?.find((m) => m.username === username);
      if (!user) throw new Error(`issueTokens: no ${store === undefined ? 'admin' : `member of store ${store}`} called ${username}`);
      const out = await issuer.issue({ kind: store === undefined ? 'admin' : 'member', username: user.username, id: user.id, roles: user.roles, store }, { accessTtlSec: accessTokenTtlSec });
      return { token: out.token, refresh_token: out.refresh_token! };
    },
  };
}

type RouteName = 'admin-login' | 'admin-refresh' | 'revoke' | 'member-login' | 'member-refresh' | 'members-list' | 'member-get' | 'echo';
interface Route {
  name: RouteName;
  endpoint: OpenLoyaltyEndpoint;
  method: 'GET' | 'POST' | 'ANY';
  store?: string;
  memberId?: string;
}

function matchRoute(parts: string[]): Route | undefined {
  if (parts[0] !== 'api') return undefined;
  const p = parts.slice(1);
  if (p.length === 2 && p[0] === 'admin' && p[1] === 'login_check') return { name: 'admin-login', endpoint: 'login', method: 'POST' };
  if (p.length === 2 && p[0] === 'token' && p[1] === 'refresh') return { name: 'admin-refresh', endpoint: 'refresh', method: 'POST' };
  if (p.length === 2 && p[0] === 'token' && p[1] === 'revoke') return { name: 'revoke', endpoint: 'revoke', method: 'GET' };
  if (p.length === 1 && p[0] === 'echo') return { name: 'echo', endpoint: 'api', method: 'ANY' };
  if (p.length === 3 && p[1] === 'member' && p[2] === 'login_check') return { name: 'member-login', endpoint: 'member-login', method: 'POST', store: p[0]! };
  if (p.length === 3 && p[1] === 'token' && p[2] === 'refresh') return { name: 'member-refresh', endpoint: 'member-refresh', method: 'POST', store: p[0]! };
  if (p.length === 2 && p[1] === 'member') return { name: 'members-list', endpoint: 'api', method: 'GET', store: p[0]! };
  if (p.length === 3 && p[1] === 'member') return { name: 'member-get', endpoint: 'api', method: 'GET', store: p[0]!, memberId: p[2]! };
  return undefined;
}

/** A stable UUID-shaped id, so tests can predict it. */
function fixedId(group: number, index: number): string {
  return `00000000-0000-4000-8${String(group).padStart(3, '0')}-${String(index + 1).padStart(12, '0')}`;
}
