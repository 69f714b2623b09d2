import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultPlan } from '../faults.js';
import { bearerToken, readBody, routes, sendJson, sleep, type Route } from '../server-kit.js';
import type { Auth0Validator } from './auth0.js';
import type { DatarheiCounters, DatarheiEndpoint } from './server.js';
import type { CoreTokens } from './tokens.js';

/** Everything one server shares between its routes and its public methods. */
export interface DatarheiState {
  readonly now: () => number;
  username: string;
  password: string;
  readonly failedLoginDelayMs: number;
  /** `statusCodes: 'newer'`. */
  readonly newer: boolean;
  readonly tokens: CoreTokens;
  readonly auth0: Auth0Validator | undefined;
  readonly faults: FaultPlan<DatarheiEndpoint>;
  readonly counters: DatarheiCounters;
  /** `/api/v3/metadata/{key}` values, by decoded key. */
  readonly metadata: Map<string, unknown>;
  /** Set by `close()`: late answers (failed logins) are dropped. */
  closed: boolean;
}

/** One request on its way through a route; `path` is the raw pathname without trailing slashes. */
export interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
}

export type TokenPair = { access_token: string; refresh_token: string };

export type DatarheiHandler = (s: DatarheiState, call: Call) => void | Promise<void>;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
};

export function sendError(res: ServerResponse, status: number, details: string[]): void {
  sendJson(res, status, { code: status, message: STATUS_TEXT[status] ?? 'Error', details });
}

export async function issuePair(s: DatarheiState, sub: string): Promise<TokenPair> {
  return { access_token: await s.tokens.issue(sub, 'access'), refresh_token: await s.tokens.issue(sub, 'refresh') };
}

// ---- the routes ----

export function about(s: DatarheiState, { res }: Call): void {
  sendJson(res, 200, {
    app: 'datarhei-core',
    auths: ['localjwt', ...(s.auth0?.describe() ?? [])],
    name: 'reference-core',
    id: 'c0ffee00-0000-4000-8000-000000000000',
    created_at: new Date(s.now()).toISOString(),
    uptime_seconds: 1,
    version: {
      number: '16.16.0',
      repository_commit: 'reference',
      repository_branch: 'main',
      build_date: '',
      arch: 'linux/amd64',
      compiler: 'go1.21',
    },
  });
}

export function ping(_s: DatarheiState, { res }: Call): void {
  res.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': '4' });
  res.end('pong');
}

export async function login(s: DatarheiState, { req, res }: Call): Promise<void> {
  s.counters.loginAttempts += 1;
  const body = await readBody(req);
  const bearer = bearerToken(req);
  if (bearer !== undefined && s.auth0) {
    const verdict = await s.auth0.verify(bearer);
    if (!verdict.ok) {
      const reason =
        verdict.reason === 'user-not-allowed'
          ? 'user not allowed'
          : verdict.reason === 'unknown-issuer'
            ? 'unknown issuer'
            : 'invalid token';
      return failLogin(s, res, s.newer ? 403 : 401, `Invalid authorization credentials: ${reason}`);
    }
    s.counters.logins += 1;
    s.counters.auth0Logins += 1;
    return sendJson(res, 200, await issuePair(s, verdict.sub));
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
  if (
    !creds ||
    typeof creds.username !== 'string' ||
    typeof creds.password !== 'string' ||
    creds.username === '' ||
    creds.password === ''
  ) {
    return failLogin(s, res, 400, 'Missing authorization credentials');
  }
  if (creds.username !== s.username || creds.password !== s.password) {
    return failLogin(s, res, s.newer ? 403 : 401, 'Invalid authorization credentials: invalid username or password');
  }
  s.counters.logins += 1;
  return sendJson(res, 200, await issuePair(s, creds.username));
}

export async function refresh(s: DatarheiState, { req, res }: Call): Promise<void> {
  const bearer = bearerToken(req);
  const claims = req.method === 'GET' && bearer !== undefined ? await s.tokens.verify(bearer, 'refresh') : undefined;
  if (!claims) {
    s.counters.failedRefreshes += 1;
    return rejectToken(s, req, res, bearer === undefined);
  }
  s.counters.refreshes += 1;
  sendJson(res, 200, { access_token: await s.tokens.issue(claims.sub, 'access') });
}

/**
 * `/api/v3/...`, behind Core's JWT middleware: every path there needs a token first (an unknown one is a
 * 404 only then), is counted, and answers HEAD with an empty 200; then {@link v3} picks the route.
 */
export async function api(s: DatarheiState, call: Call): Promise<void> {
  const { req, res, path } = call;
  const bearer = bearerToken(req);
  const claims = bearer !== undefined ? await s.tokens.verify(bearer, 'access') : undefined;
  if (!claims) {
    s.counters.rejectedCalls += 1;
    return rejectToken(s, req, res, bearer === undefined);
  }
  const method = req.method ?? 'GET';
  const found = v3.match(method, path);
  const route = found.status === 200 ? found.route : found.status === 405 ? found.routes[0] : undefined;
  // Counted by Core's path template (`/api/v3/metadata/{key}`), or by the path when no route has it.
  const counted = `${method} ${route ? route.path.replace(/[:*](\w+)/g, '{$1}') : path}`;
  s.counters.apiCalls[counted] = (s.counters.apiCalls[counted] ?? 0) + 1;
  if (method === 'HEAD') {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
    return;
  }
  if (found.status !== 200) return sendError(res, found.status, []);
  return found.route.handler(s, { ...call, params: found.params });
}

function getMetadata(s: DatarheiState, { res, params }: Call): void {
  const key = decodeURIComponent(params.key!);
  return s.metadata.has(key) ? sendJson(res, 200, s.metadata.get(key)) : sendError(res, 404, ['unknown key']);
}

async function putMetadata(s: DatarheiState, { req, res, params }: Call): Promise<void> {
  const key = decodeURIComponent(params.key!);
  const text = await readBody(req);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return sendError(res, 400, ['Invalid JSON']);
  }
  s.metadata.set(key, value);
  sendJson(res, 200, value);
}

function deleteMetadata(s: DatarheiState, { res, params }: Call): void {
  s.metadata.delete(decodeURIComponent(params.key!));
  sendJson(res, 200, 'OK');
}

/** Other methods get a 405 (without `Allow`) once the key is decoded: a malformed key is a 500 whatever the method. */
function metadataOther(_s: DatarheiState, { res, params }: Call): void {
  decodeURIComponent(params.key!);
  sendError(res, 405, []);
}

/** Core has more methods on these paths (`POST /api/v3/process`…); the reference answers them 404, not 405. */
const unimplemented: DatarheiHandler = (_s, { res }) => sendError(res, 404, []);

/**
 * The protected routes, once the token is checked. Paths are raw: the metadata key (the rest of the path)
 * is decoded by its handler, and one that does not decode is a 500, as before.
 */
const v3 = routes<Route<DatarheiHandler>>(
  [
    { method: 'GET', path: '/api/v3/process', name: 'process-list', handler: (_s, { res }) => sendJson(res, 200, []) },
    { method: '*', path: '/api/v3/process', name: 'process-other', handler: unimplemented },
    {
      method: 'GET',
      path: '/api/v3/skills',
      name: 'skills',
      handler: (_s, { res }) => sendJson(res, 200, { ffmpeg: { version: '6.1.1' }, filters: [], codecs: {} }),
    },
    { method: '*', path: '/api/v3/skills', name: 'skills-other', handler: unimplemented },
    { method: 'GET', path: '/api/v3/metadata/*key', name: 'metadata-get', handler: getMetadata },
    { method: 'PUT', path: '/api/v3/metadata/*key', name: 'metadata-put', handler: putMetadata },
    { method: 'DELETE', path: '/api/v3/metadata/*key', name: 'metadata-delete', handler: deleteMetadata },
    { method: '*', path: '/api/v3/metadata/*key', name: 'metadata-other', handler: metadataOther },
  ],
  { decode: false },
);

// ---- the steps they share ----

/** Core answers failed logins late; the answer is dropped if the server closed meanwhile. */
async function failLogin(s: DatarheiState, res: ServerResponse, status: number, detail: string): Promise<void> {
  s.counters.failedLogins += 1;
  await sleep(s.failedLoginDelayMs);
  if (!s.closed && !res.destroyed) sendError(res, status, [detail]);
}

/** The missing/invalid token answer of Core's JWT middleware (refresh and protected routes). */
function rejectToken(s: DatarheiState, req: IncomingMessage, res: ServerResponse, missing: boolean): void {
  const status = s.newer && missing ? 403 : 401;
  const detail = s.newer ? (missing ? 'access denied' : 'invalid token') : 'Missing or invalid JWT token';
  if (req.method === 'HEAD') {
    res.writeHead(status, { 'content-length': '0' });
    res.end();
  } else sendError(res, status, [detail]);
}
