import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultPlan } from '../faults.js';
import { listen, routes, sendJson, type Route } from '../server-kit.js';
import { CallWindow } from '../window.js';
import { ADMIN_ROLES, MEMBER_ROLES, fixedId, notFound, zeroTally } from './handlers.js';
import {
  adminLogin,
  adminRefresh,
  echo,
  memberGet,
  memberLogin,
  membersList,
  memberRefresh,
  revoke,
} from './handlers.js';
import type { OpenLoyaltyHandler, OpenLoyaltyState } from './handlers.js';
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
  /**
   * Largest number of auth calls (login + refresh, admin + member) that arrived within any window of the rate limit's
   * length.
   */
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
  /**
   * Makes every access token issued so far to `username` (every user when omitted) invalid, though unexpired. Returns
   * how many.
   */
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
  issueTokens(opts: {
    username: string;
    store?: string;
    accessTokenTtlSec?: number;
  }): Promise<{ token: string; refresh_token: string }>;
}

/** A route of the table: its handler, and the endpoint its faults, counters and records go to. */
interface OpenLoyaltyRoute extends Route<OpenLoyaltyHandler> {
  readonly endpoint: OpenLoyaltyEndpoint;
}

// In the order the paths are tried: the literal `admin` and `token` paths before the `:store` ones.
const table = routes<OpenLoyaltyRoute>([
  { method: 'POST', path: '/api/admin/login_check', name: 'admin-login', endpoint: 'login', handler: adminLogin },
  { method: 'POST', path: '/api/token/refresh', name: 'admin-refresh', endpoint: 'refresh', handler: adminRefresh },
  { method: 'GET', path: '/api/token/revoke', name: 'revoke', endpoint: 'revoke', handler: revoke },
  { method: '*', path: '/api/echo', name: 'echo', endpoint: 'api', handler: echo },
  {
    method: 'POST',
    path: '/api/:store/member/login_check',
    name: 'member-login',
    endpoint: 'member-login',
    handler: memberLogin,
  },
  {
    method: 'POST',
    path: '/api/:store/token/refresh',
    name: 'member-refresh',
    endpoint: 'member-refresh',
    handler: memberRefresh,
  },
  { method: 'GET', path: '/api/:store/member', name: 'members-list', endpoint: 'api', handler: membersList },
  { method: 'GET', path: '/api/:store/member/:memberId', name: 'member-get', endpoint: 'api', handler: memberGet },
]);

/** What every request goes through before its route's handler: record, 404/405, count, faults, store. */
async function dispatch(s: OpenLoyaltyState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = (req.method ?? 'GET').toUpperCase();
  const found = table.match(method, url.pathname);
  // A path that does not decode is not even recorded.
  if (found.status === 404 && found.malformed) return notFound(res);
  const route = found.status === 200 ? found.route : found.status === 405 ? found.routes[0] : undefined;
  record(s, req, url.pathname, route?.endpoint ?? 'other', res);
  if (found.status === 404) return notFound(res);
  if (found.status === 405) {
    return sendJson(res, 405, { code: 405, message: 'Method Not Allowed' }, { allow: found.allow });
  }
  const { endpoint } = found.route;
  if (endpoint !== 'revoke' && endpoint !== 'api') {
    s.tally.authCalls += 1;
    s.statsWindow.record(s.now());
  } else if (endpoint === 'api') s.tally.apiCalls += 1;
  if (await s.faults.apply(endpoint, res)) return;
  const { store } = found.params;
  if (store !== undefined && !s.stores.has(store)) return notFound(res);
  return found.route.handler(s, { req, res, url, method, params: found.params });
}

function record(
  s: OpenLoyaltyState,
  req: IncomingMessage,
  path: string,
  endpoint: OpenLoyaltyEndpoint | 'other',
  res: ServerResponse,
): void {
  const entry: OpenLoyaltyRequestRecord = { method: req.method ?? 'GET', path, endpoint, status: 0, at: s.now() };
  s.requests.push(entry);
  if (s.requests.length > 10_000) s.requests.shift();
  res.on('finish', () => (entry.status = res.statusCode));
  res.on('close', () => {
    if (entry.status === 0) entry.status = res.headersSent ? res.statusCode : -1;
  });
}

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
  const admins = (options.admins ?? [{ username: 'admin', password: 'password' }]).map((u, i) => ({
    ...u,
    id: u.id ?? fixedId(1, i),
    roles: u.roles ?? ADMIN_ROLES,
  }));
  const stores = new Map<string, Required<OpenLoyaltyUser>[]>();
  let storeIndex = 0;
  for (const [code, members] of Object.entries(
    options.stores ?? { default: [{ username: 'member@example.com', password: 'password' }] },
  )) {
    storeIndex += 1;
    stores.set(
      code,
      members.map((u, i) => ({ ...u, id: u.id ?? fixedId(100 + storeIndex, i), roles: u.roles ?? MEMBER_ROLES })),
    );
  }
  const limit =
    options.rateLimit === false
      ? undefined
      : {
          max: 20,
          windowMs: 60_000,
          scope: 'server' as const,
          includeMember: false,
          retryAfter: true,
          ...options.rateLimit,
        };
  const s: OpenLoyaltyState = {
    now,
    admins,
    stores,
    apiKeys: new Map<string, OpenLoyaltyApiKey>((options.apiKeys ?? []).map((k) => [k.key, k])),
    bundle: options.errorBodies === 'bundle',
    limit,
    limiters: new Map(),
    statsWindow: new CallWindow(limit?.windowMs ?? 60_000),
    issuer: await TokenIssuer.create(options.accessTokenTtlSec ?? 86_400, options.refreshTokenTtlSec ?? 2_592_000, now),
    faults: new FaultPlan<OpenLoyaltyEndpoint | '*'>(),
    requests: [],
    tally: zeroTally(),
  };

  const counters: OpenLoyaltyCounters = {
    get authCalls() {
      return s.tally.authCalls;
    },
    get logins() {
      return s.tally.logins;
    },
    get refreshes() {
      return s.tally.refreshes;
    },
    get loginsRejected() {
      return s.tally.loginsRejected;
    },
    get refreshesRejected() {
      return s.tally.refreshesRejected;
    },
    get badRequests() {
      return s.tally.badRequests;
    },
    get rejectedAuthCalls() {
      return s.tally.loginsRejected + s.tally.refreshesRejected;
    },
    get rateLimited() {
      return s.tally.rateLimited;
    },
    get revokes() {
      return s.tally.revokes;
    },
    get revokesRejected() {
      return s.tally.revokesRejected;
    },
    get apiCalls() {
      return s.tally.apiCalls;
    },
    get apiRejected() {
      return s.tally.apiRejected;
    },
    get apiForbidden() {
      return s.tally.apiForbidden;
    },
    get maxAuthCallsInWindow() {
      return s.statsWindow.maxInAnyWindow;
    },
  };
  const byName = (username?: string) => (p: Principal) => username === undefined || p.username === username;

  const running = await listen((req, res) => dispatch(s, req, res), { port: options.port ?? 0 });

  return {
    url: running.url,
    port: running.port,
    close: () => running.close(),
    counters,
    resetCounters() {
      s.tally = zeroTally();
      s.statsWindow.reset();
      s.requests.length = 0;
    },
    requests: s.requests,
    faults: s.faults,
    revokeAccessTokens: (username) => s.issuer.revokeAccess(byName(username)),
    expireRefreshTokens: (username) => s.issuer.dropRefreshTokens(byName(username)),
    liveRefreshTokens: (username) => s.issuer.liveRefreshTokens(byName(username)),
    setPassword(username, password) {
      for (const list of [admins, ...stores.values()])
        for (const u of list) if (u.username === username) u.password = password;
    },
    addApiKey(key) {
      s.apiKeys.set(key.key, { ...key });
    },
    removeApiKey(key) {
      s.apiKeys.delete(key);
    },
    async issueTokens({ username, store, accessTokenTtlSec }) {
      const user =
        store === undefined
          ? admins.find((a) => a.username === username)
          : stores.get(store)?.find((m) => m.username === username);
      if (!user)
        throw new Error(
          `issueTokens: no ${store === undefined ? 'admin' : `member of store ${store}`} called ${username}`,
        );
      const out = await s.issuer.issue(
        {
          kind: store === undefined ? 'admin' : 'member',
          username: user.username,
          id: user.id,
          roles: user.roles,
          store,
        },
        { accessTtlSec: accessTokenTtlSec },
      );
      return { token: out.token, refresh_token: out.refresh_token! };
    },
  };
}
