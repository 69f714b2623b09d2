// The Node side of the matrix: a control server on 127.0.0.1 through which the suite, whatever
// runtime it runs on, starts fresh reference servers (one set per scenario, so rate budgets and
// counters never leak between scenarios), injects faults and reads counters.
import {
  createDatarheiServer,
  createOpenLoyaltyServer,
  listen,
  readBody,
  sendJson,
  type DatarheiServer,
  type OpenLoyaltyServer,
  type RunningServer,
} from '@auth/testing';
import { API, CLIENT_ID, CLIENT_SECRET, startIdp, type Idp } from '../../../packages/datarhei-auth0/test/idp.js';

type Entry =
  | { kind: 'openloyalty'; server: OpenLoyaltyServer }
  | { kind: 'datarhei'; server: DatarheiServer; idp?: Idp; idpBaseline?: number }
  | {
      kind: 'capture';
      server: RunningServer;
      seen: { path: string; authorization: string | null; xAuthToken: string | null }[];
    };

export interface Control {
  url: string;
  /** CORS headers on every answer (for the suite in a browser page on another origin). */
  readonly servers: number;
  close(): Promise<void>;
}

export interface Counters {
  authCalls: number;
  logins: number;
  loginAttempts: number;
  refreshes: number;
  refreshesRejected: number;
  apiCalls: number;
  apiRejected: number;
  rateLimited: number;
  maxAuthCallsInWindow: number;
  idpTokenRequests?: number;
}

export function countersOf(e: Entry): Counters | { seen: number } {
  if (e.kind === 'openloyalty') {
    const c = e.server.counters;
    return {
      authCalls: c.authCalls,
      logins: c.logins,
      loginAttempts: e.server.requests.filter((r) => r.endpoint === 'login' || r.endpoint === 'member-login').length,
      refreshes: c.refreshes,
      refreshesRejected: c.refreshesRejected,
      apiCalls: c.apiCalls,
      apiRejected: c.apiRejected,
      rateLimited: c.rateLimited,
      maxAuthCallsInWindow: c.maxAuthCallsInWindow,
    };
  }
  if (e.kind === 'datarhei') {
    const c = e.server.counters;
    const ok = Object.values(c.apiCalls).reduce((a, b) => a + b, 0);
    return {
      // faults answer before the server counts the call (they are only set on login here)
      authCalls: c.loginAttempts + c.refreshes + c.failedRefreshes + c.faults,
      logins: c.logins,
      loginAttempts: c.loginAttempts + c.faults,
      refreshes: c.refreshes,
      refreshesRejected: c.failedRefreshes,
      apiCalls: ok + c.rejectedCalls,
      apiRejected: c.rejectedCalls,
      rateLimited: 0,
      maxAuthCallsInWindow: 0,
      ...(e.idp ? { idpTokenRequests: e.idp.tokenRequests - (e.idpBaseline ?? 0) } : {}),
    };
  }
  return { seen: e.seen.length };
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, content-type, x-auth-token',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE',
  'access-control-expose-headers': 'retry-after, www-authenticate',
};

/**
 * Starts the control server. `wrap` lets a caller put each new reference server behind something
 * (the browser run puts a CORS proxy in front) and returns the URL the suite should use.
 */
export async function startControl(
  opts: { wrap?: (url: string) => Promise<{ url: string; close(): Promise<void> }> } = {},
): Promise<Control> {
  const entries = new Map<string, Entry & { url: string; closers: (() => Promise<void>)[] }>();
  let idp: Idp | undefined;
  let next = 0;

  const expose = async (url: string, closers: (() => Promise<void>)[]) => {
    if (!opts.wrap) return url;
    const w = await opts.wrap(url);
    closers.push(() => w.close());
    return w.url;
  };

  const start = async (kind: string, options: Record<string, unknown>) => {
    const id = `s${++next}`;
    const closers: (() => Promise<void>)[] = [];
    if (kind === 'openloyalty') {
      const server = await createOpenLoyaltyServer({ ...(options as object) });
      closers.push(() => server.close());
      const url = await expose(server.url, closers);
      entries.set(id, { kind, server, url, closers });
      return { id, url };
    }
    if (kind === 'datarhei' || kind === 'datarhei-auth0') {
      let extra = {};
      if (kind === 'datarhei-auth0') {
        idp ??= await startIdp();
        extra = { auth0Tenants: [{ issuer: idp.issuer, users: [CLIENT_ID], audience: API }] };
      }
      const server = await createDatarheiServer({ failedLoginDelayMs: 5, ...extra, ...(options as object) });
      closers.push(() => server.close());
      const url = await expose(server.url, closers);
      if (kind === 'datarhei') {
        entries.set(id, { kind: 'datarhei', server, url, closers });
        return { id, url };
      }
      entries.set(id, { kind: 'datarhei', server, idp, idpBaseline: idp!.tokenRequests, url, closers });
      // The browser reaches the provider through the same kind of proxy; its issuer stays the real one.
      return { id, url, issuer: idp!.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, resource: API };
    }
    if (kind === 'capture') {
      const seen: { path: string; authorization: string | null; xAuthToken: string | null }[] = [];
      const server = await listen((req, res) => {
        if (req.method === 'OPTIONS') {
          res.writeHead(204, CORS);
          return void res.end();
        }
        const h = (name: string) => {
          const v = req.headers[name];
          return v === undefined ? null : String(v);
        };
        seen.push({ path: req.url ?? '', authorization: h('authorization'), xAuthToken: h('x-auth-token') });
        res.writeHead(200, { 'content-type': 'text/plain', ...CORS });
        res.end('captured');
      });
      closers.push(() => server.close());
      entries.set(id, { kind: 'capture', server, seen, url: server.url, closers });
      return { id, url: server.url };
    }
    if (kind === 'redirector') {
      // answers every request with a 307 to `options.to` (an API that redirects elsewhere)
      const to = String(options.to);
      const server = await listen((req, res) => {
        res.writeHead(req.method === 'OPTIONS' ? 204 : 307, {
          ...CORS,
          ...(req.method === 'OPTIONS' ? {} : { location: to }),
        });
        res.end();
      });
      closers.push(() => server.close());
      entries.set(id, { kind: 'capture', server, seen: [], url: server.url, closers });
      return { id, url: server.url };
    }
    throw new Error(`unknown kind ${kind}`);
  };

  const entry = (id: unknown) => {
    const e = entries.get(String(id));
    if (!e) throw new Error(`no server ${String(id)}`);
    return e;
  };

  const act = async (id: unknown, action: string, arg: unknown) => {
    const e = entry(id);
    if (e.kind === 'capture') throw new Error('nothing to do on a capture server');
    switch (action) {
      case 'revokeAccessTokens':
        return void e.server.revokeAccessTokens();
      case 'expireRefreshTokens':
        return void e.server.expireRefreshTokens();
      case 'fault':
        return void e.server.faults.add(arg as never);
      case 'removeApiKey':
        if (e.kind !== 'openloyalty') throw new Error('API keys are OpenLoyalty only');
        return void e.server.removeApiKey(String(arg));
      default:
        throw new Error(`unknown action ${action}`);
    }
  };

  const server = await listen(async (req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS);
      return void res.end();
    }
    try {
      const op = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/ctl\//, '');
      const body = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
      let out: unknown;
      if (op === 'start') out = await start(String(body.kind), (body.options ?? {}) as Record<string, unknown>);
      else if (op === 'counters') out = countersOf(entry(body.id));
      else if (op === 'act') out = (await act(body.id, String(body.action), body.arg)) ?? {};
      else if (op === 'captured') {
        const e = entry(body.id);
        out = e.kind === 'capture' ? e.seen : [];
      } else throw new Error(`unknown op ${op}`);
      sendJson(res, 200, out, CORS);
    } catch (e) {
      sendJson(res, 500, { error: String(e) }, CORS);
    }
  });

  return {
    url: server.url,
    get servers() {
      return entries.size;
    },
    async close() {
      for (const e of entries.values()) for (const c of e.closers) await c().catch(() => {});
      entries.clear();
      await idp?.close();
      await server.close();
    },
  };
}
