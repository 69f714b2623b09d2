import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultPlan } from '../faults.js';
import { listen, routes, type Route, type RunningServer } from '../server-kit.js';
import { Auth0Validator, type DatarheiAuth0Tenant } from './auth0.js';
import * as handle from './handlers.js';
import { issuePair, sendError, type DatarheiHandler, type DatarheiState } from './handlers.js';
import { CoreTokens } from './tokens.js';

/**
 * Endpoints faults can be injected on (`'*'` = any of them).
 *
 * @example
 * core.faults.add({ endpoint: 'refresh', fault: { kind: 'status', status: 503 }, times: 2 });
 */
export type DatarheiEndpoint = 'about' | 'login' | 'refresh' | 'ping' | 'api' | '*';

/**
 * Options of {@link createDatarheiServer}.
 *
 * @example
 * const options: DatarheiServerOptions = { username: 'admin', password: 'secret', failedLoginDelayMs: 5, accessTokenTtlSeconds: 60 };
 */
export interface DatarheiServerOptions {
  /** Core's `api.auth.username`. Default `admin`. */
  username?: string;
  /** Core's `api.auth.password`. Default `datarhei`. */
  password?: string;
  /** Access token lifetime. Default 600 (Core's fixed 10 minutes). */
  accessTokenTtlSeconds?: number;
  /** Refresh token lifetime. Default 86 400 (Core's fixed 24 hours). */
  refreshTokenTtlSeconds?: number;
  /**
   * How long Core waits before answering a failed login (400 or 401). Default 5000, as the real
   * server; tests usually pass a few ms.
   */
  failedLoginDelayMs?: number;
  /**
   * `'v16'` (default): released Core, 401 for bad credentials and for a missing token. `'newer'`: the
   * unreleased Core that answers bad credentials and a missing token with 403 (`access denied`) and an
   * invalid token with 401 (`invalid token`).
   */
  statusCodes?: 'v16' | 'newer';
  /** Auth0 tenants whose access tokens `POST /api/login` accepts as a bearer token. */
  auth0Tenants?: DatarheiAuth0Tenant[];
  /** HS256 secret of Core's tokens. Default: random per server. */
  jwtSecret?: string;
  /** The server's clock (ms since the epoch); share it with a session to move time in tests. Default `Date.now`. */
  now?: () => number;
  /** Port to listen on (default 0: ephemeral). */
  port?: number;
}

/**
 * What the server has seen since it started (or since `resetCounters()`).
 *
 * @example
 * expect(core.counters).toMatchObject({ logins: 1, refreshes: 0, failedLogins: 0 });
 */
export interface DatarheiCounters {
  /** Every `POST /api/login`, successful or not. */
  loginAttempts: number;
  /** Successful logins (password and Auth0). */
  logins: number;
  /** Successful logins with an Auth0 token. */
  auth0Logins: number;
  /** Logins answered 400, 401 or 403. */
  failedLogins: number;
  /** Successful `GET /api/login/refresh`. */
  refreshes: number;
  /** Refresh calls answered 401/403. */
  failedRefreshes: number;
  /** Protected calls (`/api/v3/...`) answered 401/403 because of the token. */
  rejectedCalls: number;
  /** Protected calls that got past authentication, keyed `"GET /api/v3/process"`. */
  apiCalls: Record<string, number>;
  /** Calls answered by an injected fault (delays are not counted). */
  faults: number;
}

/**
 * A running reference datarhei Core server.
 *
 * @example
 * const core: DatarheiServer = await createDatarheiServer({ failedLoginDelayMs: 5 });
 * core.expireRefreshTokens(); // the next refresh is answered 401
 * await core.close();
 */
export interface DatarheiServer extends RunningServer {
  /** Live counters; read them after the calls under test. */
  readonly counters: DatarheiCounters;
  /** Faults to inject on the next calls of an endpoint. */
  readonly faults: FaultPlan<DatarheiEndpoint>;
  /** The failed-login delay in effect (ms). */
  readonly failedLoginDelayMs: number;
  /**
   * Every access token issued so far stops working (as if the server had restarted with a new secret). Returns how
   * many.
   */
  revokeAccessTokens(): number;
  /** Every refresh token issued so far is rejected as expired. Returns how many. */
  expireRefreshTokens(): number;
  /** Changes the username and password (a password change on the server). */
  setCredentials(username: string, password: string): void;
  /** Issues a token pair for `sub` without a login call (to test resuming from exported tokens). */
  issueTokens(sub?: string): Promise<{ access_token: string; refresh_token: string }>;
  resetCounters(): void;
}

function emptyCounters(): DatarheiCounters {
  return {
    loginAttempts: 0,
    logins: 0,
    auth0Logins: 0,
    failedLogins: 0,
    refreshes: 0,
    failedRefreshes: 0,
    rejectedCalls: 0,
    apiCalls: {},
    faults: 0,
  };
}

/** A route of the table: its handler, and the endpoint its faults go to. */
interface DatarheiRoute extends Route<DatarheiHandler> {
  readonly endpoint: Exclude<DatarheiEndpoint, '*'>;
}

// Core's router compares raw paths (no percent-decoding); `/api/v3/*` is everything behind the JWT middleware.
const table = routes<DatarheiRoute>(
  [
    { method: '*', path: '/api', name: 'about', endpoint: 'about', handler: handle.about },
    { method: 'POST', path: '/api/login', name: 'login', endpoint: 'login', handler: handle.login },
    { method: '*', path: '/api/login/refresh', name: 'refresh', endpoint: 'refresh', handler: handle.refresh },
    { method: '*', path: '/ping', name: 'ping', endpoint: 'ping', handler: handle.ping },
    { method: '*', path: '/api/v3/*rest', name: 'api', endpoint: 'api', handler: handle.api },
  ],
  { decode: false },
);

/** What every request goes through before its route's handler: faults, then 404/405 (no `Allow`, as before). */
async function dispatch(s: DatarheiState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
  const found = table.match(req.method ?? 'GET', path);
  const route = found.status === 200 ? found.route : found.status === 405 ? found.routes[0] : undefined;
  if (route && (await s.faults.apply(route.endpoint, res))) {
    s.counters.faults += 1;
    return;
  }
  if (found.status !== 200) return sendError(res, found.status, []);
  return found.route.handler(s, { req, res, path, params: found.params });
}

/**
 * Starts a reference datarhei Core (v16) server on 127.0.0.1 with an ephemeral port: `GET /api`,
 * `POST /api/login` (password or Auth0 bearer token), `GET /api/login/refresh`, `/ping` and protected
 * `/api/v3/process`, `/api/v3/skills` and `/api/v3/metadata/{key}` (GET/PUT/DELETE; PUT echoes the
 * stored JSON). Tokens, error bodies, status codes and the failed-login delay follow the real server.
 *
 * @example
 * import { createDatarheiServer } from '@auth/testing';
 * const core = await createDatarheiServer({ username: 'admin', password: 'secret', failedLoginDelayMs: 5 });
 * const res = await fetch(`${core.url}/api/login`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ username: 'admin', password: 'secret' }),
 * });
 * const { access_token, refresh_token } = await res.json();
 * await core.close();
 */
export async function createDatarheiServer(options: DatarheiServerOptions = {}): Promise<DatarheiServer> {
  const now = options.now ?? Date.now;
  const s: DatarheiState = {
    now,
    username: options.username ?? 'admin',
    password: options.password ?? 'datarhei',
    failedLoginDelayMs: options.failedLoginDelayMs ?? 5_000,
    newer: options.statusCodes === 'newer',
    tokens: new CoreTokens(options.jwtSecret ?? randomBytes(32).toString('hex'), now, {
      access: options.accessTokenTtlSeconds ?? 600,
      refresh: options.refreshTokenTtlSeconds ?? 86_400,
    }),
    auth0: options.auth0Tenants?.length ? new Auth0Validator(options.auth0Tenants, now) : undefined,
    faults: new FaultPlan<DatarheiEndpoint>(),
    counters: emptyCounters(),
    metadata: new Map(),
    closed: false,
  };

  const running = await listen((req, res) => dispatch(s, req, res), { port: options.port });

  return {
    url: running.url,
    port: running.port,
    counters: s.counters,
    faults: s.faults,
    failedLoginDelayMs: s.failedLoginDelayMs,
    revokeAccessTokens: () => s.tokens.revokeAccessTokens(),
    expireRefreshTokens: () => s.tokens.expireRefreshTokens(),
    setCredentials(u, p) {
      s.username = u;
      s.password = p;
    },
    issueTokens: (sub = s.username) => issuePair(s, sub),
    resetCounters() {
      Object.assign(s.counters, emptyCounters());
    },
    close() {
      s.closed = true;
      return running.close();
    },
  };
}
