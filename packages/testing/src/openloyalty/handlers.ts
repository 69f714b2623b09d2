import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultPlan } from '../faults.js';
import { bearerToken, readRawBody, sendJson } from '../server-kit.js';
import { CallWindow } from '../window.js';
import type {
  OpenLoyaltyApiKey,
  OpenLoyaltyEcho,
  OpenLoyaltyEndpoint,
  OpenLoyaltyRequestRecord,
  OpenLoyaltyUser,
} from './server.js';
import type { Principal, TokenIssuer } from './tokens.js';

export const ADMIN_ROLES = ['ROLE_ADMIN'];
export const MEMBER_ROLES = ['ROLE_PARTICIPANT'];

/** What the counters count; `resetCounters()` swaps in a fresh one. */
export type Tally = ReturnType<typeof zeroTally>;

export function zeroTally() {
  return {
    authCalls: 0,
    logins: 0,
    refreshes: 0,
    loginsRejected: 0,
    refreshesRejected: 0,
    badRequests: 0,
    rateLimited: 0,
    revokes: 0,
    revokesRejected: 0,
    apiCalls: 0,
    apiRejected: 0,
    apiForbidden: 0,
  };
}

/** Everything one server shares between its routes and its public methods. */
export interface OpenLoyaltyState {
  readonly now: () => number;
  readonly admins: Required<OpenLoyaltyUser>[];
  /** Members by store code. */
  readonly stores: Map<string, Required<OpenLoyaltyUser>[]>;
  readonly apiKeys: Map<string, OpenLoyaltyApiKey>;
  /** `errorBodies: 'bundle'`. */
  readonly bundle: boolean;
  readonly limit:
    | { max: number; windowMs: number; scope: 'server' | 'account'; includeMember: boolean; retryAfter: boolean }
    | undefined;
  /** The rate limit's windows, by account (`''` for the server-wide one). */
  readonly limiters: Map<string, CallWindow>;
  /** Auth calls, for `maxAuthCallsInWindow`. */
  readonly statsWindow: CallWindow;
  readonly issuer: TokenIssuer;
  readonly faults: FaultPlan<OpenLoyaltyEndpoint | '*'>;
  readonly requests: OpenLoyaltyRequestRecord[];
  tally: Tally;
}

/** One request on its way through a route: the route's `:params` are matched and decoded. */
export interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Upper-case. */
  readonly method: string;
  readonly params: Readonly<Record<string, string>>;
}

export type OpenLoyaltyHandler = (s: OpenLoyaltyState, call: Call) => void | Promise<void>;

// ---- the routes ----

export const adminLogin: OpenLoyaltyHandler = (s, call) => login(s, call, undefined);
export const memberLogin: OpenLoyaltyHandler = (s, call) => login(s, call, call.params.store!);
export const adminRefresh: OpenLoyaltyHandler = (s, call) => refresh(s, call, undefined);
export const memberRefresh: OpenLoyaltyHandler = (s, call) => refresh(s, call, call.params.store!);

export async function revoke(s: OpenLoyaltyState, { req, res, url }: Call): Promise<void> {
  const who = await authenticate(s, req, url, res, 'revoke');
  if (!who) return;
  s.issuer.dropRefreshTokens(
    (p) => p.kind === who.principal.kind && p.username === who.principal.username && p.store === who.principal.store,
  );
  s.tally.revokes += 1;
  res.writeHead(204);
  res.end();
}

export async function membersList(s: OpenLoyaltyState, { req, res, url, params }: Call): Promise<void> {
  const who = await authenticate(s, req, url, res);
  if (!who) return;
  if (who.principal.kind !== 'admin') return forbidden(s, res);
  const members = s.stores.get(params.store!)!;
  sendJson(res, 200, {
    items: members.map((m) => ({ customerId: m.id, email: m.username })),
    total: { all: members.length, filtered: members.length },
  });
}

export async function memberGet(s: OpenLoyaltyState, { req, res, url, params }: Call): Promise<void> {
  const who = await authenticate(s, req, url, res);
  if (!who) return;
  const { store, memberId } = params;
  const member = s.stores.get(store!)!.find((m) => m.id === memberId);
  if (who.principal.kind !== 'admin' && !(who.principal.store === store && who.principal.id === memberId))
    return forbidden(s, res);
  if (!member) return notFound(res);
  sendJson(res, 200, { customerId: member.id, email: member.username, storeCode: store });
}

export async function echo(s: OpenLoyaltyState, { req, res, url, method }: Call): Promise<void> {
  const who = await authenticate(s, req, url, res);
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
  const answer: OpenLoyaltyEcho = {
    method,
    path: url.pathname,
    query,
    contentType: req.headers['content-type'] ?? null,
    body: utf8 ? text : raw.toString('base64'),
    bodyEncoding: utf8 ? 'utf8' : 'base64',
    headers,
    user: { kind: who.kind, username: who.principal.username },
  };
  sendJson(res, 200, answer);
}

// ---- the steps they share ----

async function login(s: OpenLoyaltyState, { req, res }: Call, store: string | undefined): Promise<void> {
  const limited = store === undefined || s.limit?.includeMember === true;
  const body = await jsonFields(s, req, res, ['username', 'password']);
  if (!body) return;
  if (limited && !withinLimit(s, res, body.username)) return;
  const users = store === undefined ? s.admins : s.stores.get(store)!;
  const user = users.find((u) => u.username === body.username && u.password === body.password);
  if (!user) {
    s.tally.loginsRejected += 1;
    return badCredentials(s, res);
  }
  s.tally.logins += 1;
  sendJson(
    res,
    200,
    await s.issuer.issue({
      kind: store === undefined ? 'admin' : 'member',
      username: user.username,
      id: user.id,
      roles: user.roles,
      store,
    }),
  );
}

async function refresh(s: OpenLoyaltyState, { req, res }: Call, store: string | undefined): Promise<void> {
  const limited = store === undefined || s.limit?.includeMember === true;
  const body = await jsonFields(s, req, res, ['refresh_token']);
  if (!body) return;
  const owner = s.issuer.ownerOfRefresh(body.refresh_token)?.username ?? '';
  if (limited && !withinLimit(s, res, owner)) return;
  const found = s.issuer.consumeRefresh(body.refresh_token, (p) =>
    store === undefined ? p.kind === 'admin' : p.kind === 'member' && p.store === store,
  );
  if ('error' in found) {
    s.tally.refreshesRejected += 1;
    return refreshRejected(s, res, found.error);
  }
  s.tally.refreshes += 1;
  sendJson(res, 200, await s.issuer.issue(found.principal));
}

/** Reads a JSON object body with the given string fields; answers 400 itself and returns undefined otherwise. */
async function jsonFields<K extends string>(
  s: OpenLoyaltyState,
  req: IncomingMessage,
  res: ServerResponse,
  fields: K[],
): Promise<Record<K, string> | undefined> {
  const raw = await readRawBody(req);
  const type = req.headers['content-type'] ?? '';
  if (!/json/i.test(type)) return void badRequest(s, res, 'Invalid content type: expected application/json.');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return void badRequest(s, res, 'Invalid JSON.');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return void badRequest(s, res, 'Invalid JSON.');
  for (const f of fields) {
    if (typeof (body as Record<string, unknown>)[f] !== 'string')
      return void badRequest(s, res, `The key "${f}" must be provided.`);
  }
  return body as Record<K, string>;
}

/** True when the call may go on; answers 429 itself otherwise. */
function withinLimit(s: OpenLoyaltyState, res: ServerResponse, account: string): boolean {
  const { limit } = s;
  if (!limit) return true;
  const key = limit.scope === 'account' ? account : '';
  let window = s.limiters.get(key);
  if (!window) s.limiters.set(key, (window = new CallWindow(limit.windowMs)));
  const t = s.now();
  if (window.countRecent(t) >= limit.max) {
    s.tally.rateLimited += 1;
    const headers: Record<string, string> = limit.retryAfter
      ? { 'retry-after': String(Math.max(1, Math.ceil(window.msUntilFree(t, limit.max) / 1000))) }
      : {};
    sendJson(res, 429, { code: 429, message: 'Too Many Requests' }, headers);
    return false;
  }
  window.record(t);
  return true;
}

/** The caller behind a protected request: answers 401 itself and returns undefined when there is none. */
async function authenticate(
  s: OpenLoyaltyState,
  req: IncomingMessage,
  url: URL,
  res: ServerResponse,
  endpoint: 'api' | 'revoke' = 'api',
): Promise<{ kind: 'admin' | 'member' | 'api-key'; principal: Principal } | undefined> {
  const headerKey = req.headers['x-auth-token'];
  const key = (Array.isArray(headerKey) ? headerKey[0] : headerKey) ?? url.searchParams.get('auth_token') ?? undefined;
  if (key !== undefined) {
    const found = s.apiKeys.get(key);
    if (!found || (found.expiresAt !== undefined && found.expiresAt <= s.now()))
      return void unauthorized(s, res, 'Invalid API key.', endpoint);
    const admin = (found.username !== undefined
      ? s.admins.find((a) => a.username === found.username)
      : s.admins[0]) ?? { username: found.username ?? 'api', id: fixedId(9, 0), roles: ADMIN_ROLES };
    return {
      kind: 'api-key',
      principal: { kind: 'admin', username: admin.username, id: admin.id, roles: admin.roles },
    };
  }
  const token = bearerToken(req);
  if (token === undefined) return void unauthorized(s, res, 'Authentication Required', endpoint);
  const result = await s.issuer.verify(token);
  if (!result.ok)
    return void unauthorized(s, res, result.reason === 'expired' ? 'Expired JWT Token' : 'Invalid JWT Token', endpoint);
  return { kind: result.principal.kind, principal: result.principal };
}

// ---- the answers ----

export const notFound = (res: ServerResponse) => sendJson(res, 404, { code: 404, message: 'Not Found' });

const badCredentials = (s: OpenLoyaltyState, res: ServerResponse) =>
  s.bundle
    ? sendJson(res, 401, { code: 401, message: 'Invalid credentials.' }, { 'www-authenticate': 'Bearer' })
    : sendJson(res, 401, { message: 'Bad credentials.' });

const refreshRejected = (s: OpenLoyaltyState, res: ServerResponse, why: 'not-found' | 'expired') =>
  s.bundle
    ? sendJson(res, 401, {
        code: 401,
        message: why === 'expired' ? 'Invalid JWT Refresh Token' : 'JWT Refresh Token Not Found',
      })
    : sendJson(res, 401, { message: 'Bad credentials.' });

function badRequest(s: OpenLoyaltyState, res: ServerResponse, message: string): void {
  s.tally.badRequests += 1;
  sendJson(res, 400, { code: 400, message });
}

function unauthorized(s: OpenLoyaltyState, res: ServerResponse, message: string, endpoint: 'api' | 'revoke'): void {
  if (endpoint === 'revoke') s.tally.revokesRejected += 1;
  else s.tally.apiRejected += 1;
  sendJson(res, 401, { code: 401, message }, { 'www-authenticate': 'Bearer' });
}

function forbidden(s: OpenLoyaltyState, res: ServerResponse): void {
  s.tally.apiForbidden += 1;
  sendJson(res, 403, { code: 403, message: 'Forbidden.' });
}

/** A stable UUID-shaped id, so tests can predict it. */
export function fixedId(group: number, index: number): string {
  return `00000000-0000-4000-8${String(group).padStart(3, '0')}-${String(index + 1).padStart(12, '0')}`;
}
