import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultPlan } from '../faults.js';
import { bearerToken, listen, readBody, sendJson, sleep, type RunningServer } from '../server-kit.js';
import { Auth0Validator, type DatarheiAuth0Tenant } from './auth0.js';
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
  /** Every access token issued so far stops working (as if the server had restarted with a new secret). Returns how many. */
  revokeAccessTokens(): number;
  /** Every refresh token issued so far is rejected as expired. Returns how many. */
  expireRefreshTokens(): number;
  /** Changes the username and password (a password change on the server). */
  setCredentials(username: string, password: string): void;
  /** Issues a token pair for `sub` without a login call (to test resuming from exported tokens). */
  issueTokens(sub?: string): Promise<{ access_token: string; refresh_token: string }>;
  resetCounters(): void;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' };

function sendError(res: ServerResponse, status: number, details: string[]): void {
  sendJson(res, status, { code: status, message: STATUS_TEXT[status] ?? 'Error', details });
}

function emptyCounters(): DatarheiCounters {
  return { loginAttempts: 0, logins: 0, auth0Logins: 0, failedLogins: 0, refreshes: 0, failedRefreshes: 0, rejectedCalls: 0, apiCalls: {}, faults: 0 };
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
  let username = options.username ?? 'admin';
  let password = options.password ?? 'datarhei';
  const failedLoginDelayMs = options.failedLoginDelayMs ?? 5_000;
  const newer = options.statusCodes === 'newer';
  const tokens = new CoreTokens(options.jwtSecret ?? randomBytes(32).toString('hex'), now, {
    access: options.accessTokenTtlSeconds ?? 600,
    refresh: options.refreshTokenTtlSeconds ?? 86_400,
  });
  const auth0 = options.auth0Tenants?.length ? new Auth0Validator(options.auth0Tenants, now) : undefined;
  const faults = new FaultPlan<DatarheiEndpoint>();
  const counters = emptyCounters();
  const metadata = new Map<string, unknown>();
  let closed = false;

  const issuePair = async (sub: string) => ({ access_token: await tokens.issue(sub, 'access'), refresh_token: await tokens.issue(sub, 'refresh') });

  /** Core answers failed logins late; the answer is dropped if the server closed meanwhile. */
  const failLogin = async (res: ServerResponse, status: number, detail: string) => {
    counters.failedLogins += 1;
    await sleep(failedLoginDelayMs);
    if (!closed && !res.destroyed) sendError(res, status, [detail]);
  };

  /** The missing/invalid token answer of Core's JWT middleware (refresh and protected routes). */
  const rejectToken = (req: IncomingMessage, res: ServerResponse, missing: boolean) => {
    const status = newer && missing ? 403 : 401;
    const detail = newer ? (missing ? 'access denied' : 'invalid token') : 'Missing or invalid JWT token';
    if (req.method === 'HEAD') {
      res.writeHead(status, { 'content-length': '0' });
      res.end();
    } else sendError(res, status, [detail]);
  };

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    counters.loginAttempts += 1;
    const body = await readBody(req);
    const bearer = bearerToken(req);
    if (bearer !== undefined && auth0) {
      const verdict = await auth0.verify(bearer);
      if (!verdict.ok) {
        const reason = verdict.reason === 'user-not-allowed' ? 'user not allowed' : verdict.reason === 'unknown-issuer' ? 'unknown issuer' : 'invalid token';
        return failLogin(res, newer ? 403 : 401, `Invalid authorization credentials: ${reason}`);
      }
      counters.logins += 1;
      counters.auth0Logins += 1;
      return sendJson(res, 200, await issuePair(verdict.sub));
    }
    const type = req.headers['content-type'] ?? '';
    let creds: { username?: unknown; password?: unknown } | undefined;
    if (type.startsWith('application/json')) {
      try {
        const parsed: unknown = JSON.parse(body);
        if (parsed && typeof parsed === 'object') creds = parsed as typeof creds;
      } catch {
        creds = undefined;
      }
    }
    if (!creds || typeof creds.username !== 'string' || typeof creds.password !== 'string' || creds.username === '' || creds.password === '') {
      return failLogin(res, 400, 'Missing authorization credentials');
    }
    if (creds.username !== username || creds.password !== password) {
      return failLogin(res, newer ? 403 : 401, 'Invalid authorization credentials: invalid username or password');
    }
    counters.logins += 1;
    return sendJson(res, 200, await issuePair(creds.username));
  };

  const refresh = async (req: IncomingMessage, res: ServerResponse) => {
    const bearer = bearerToken(req);
    const claims = req.method === 'GET' && bearer !== undefined ? await tokens.verify(bearer, 'refresh') : undefined;
    if (!claims) {
      counters.failedRefreshes += 1;
      return rejectToken(req, res, bearer === undefined);
    }
    counters.refreshes += 1;
    sendJson(res, 200, { access_token: await tokens.issue(claims.sub, 'access') });
  };

  const api = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const bearer = bearerToken(req);
    const claims = bearer !== undefined ? await tokens.verify(bearer, 'access') : undefined;
    if (!claims) {
      counters.rejectedCalls += 1;
      return rejectToken(req, res, bearer === undefined);
    }
    const method = req.method ?? 'GET';
    const route = path.startsWith('/api/v3/metadata/') ? '/api/v3/metadata/{key}' : path;
    counters.apiCalls[`${method} ${route}`] = (counters.apiCalls[`${method} ${route}`] ?? 0) + 1;
    if (method === 'HEAD') {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      return;
    }
    if (path === '/api/v3/process' && method === 'GET') return sendJson(res, 200, []);
    if (path === '/api/v3/skills' && method === 'GET') return sendJson(res, 200, { ffmpeg: { version: '6.1.1' }, filters: [], codecs: {} });
    if (route === '/api/v3/metadata/{key}') {
      const key = decodeURIComponent(path.slice('/api/v3/metadata/'.length));
      if (method === 'GET') return metadata.has(key) ? sendJson(res, 200, metadata.get(key)) : sendError(res, 404, ['unknown key']);
      if (method === 'DELETE') {
        metadata.delete(key);
        return sendJson(res, 200, 'OK');
      }
      if (method === 'PUT') {
        const text = await readBody(req);
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return sendError(res, 400, ['Invalid JSON']);
        }
        metadata.set(key, value);
        return sendJson(res, 200, value);
      }
      return sendError(res, 405, []);
    }
    return sendError(res, 404, []);
  };

  const running = await listen(
    async (req, res): Promise<void> => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
      const endpoint: DatarheiEndpoint | undefined =
        path === '/api' ? 'about' : path === '/api/login' ? 'login' : path === '/api/login/refresh' ? 'refresh' : path === '/ping' ? 'ping' : path.startsWith('/api/v3/') ? 'api' : undefined;
      if (endpoint && (await faults.apply(endpoint, res))) {
        counters.faults += 1;
        return;
      }
      switch (endpoint) {
        case 'about':
          return sendJson(res, 200, {
            app: 'datarhei-core',
            auths: ['localjwt', ...(auth0?.describe() ?? [])],
            name: 'reference-core',
            id: 'c0ffee00-0000-4000-8000-000000000000',
            created_at: new Date(now()).toISOString(),
            uptime_seconds: 1,
            version: { number: '16.16.0', repository_commit: 'reference', repository_branch: 'main', build_date: '', arch: 'linux/amd64', compiler: 'go1.21' },
          });
        case 'ping':
          res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': '4' });
          res.end('pong');
          return;
        case 'login':
          if (req.method !== 'POST') return sendError(res, 405, []);
          return login(req, res);
        case 'refresh':
          return refresh(req, res);
        case 'api':
          return api(req, res, path);
        default:
          return sendError(res, 404, []);
      }
    },
    { port: options.port },
  );

  return {
    url: running.url,
    port: running.port,
    counters,
    faults,
    failedLoginDelayMs,
    revokeAccessTokens: () => tokens.revokeAccessTokens(),
    expireRefreshTokens: () => tokens.expireRefreshTokens(),
    setCredentials(u, p) {
      username = u;
      password = p;
    },
    issueTokens: (sub = username) => issuePair(sub),
    resetCounters() {
      Object.assign(counters, emptyCounters());
    },
    close() {
      closed = true;
      return running.close();
    },
  };
}
