import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A running reference server.
 *
 * @example
 * const server: RunningServer = await createOpenLoyaltyServer();
 * await fetch(`${server.url}/api/admin/login_check`, { method: 'POST' });
 * await server.close();
 */
export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * A request handler for {@link listen}; a throw or rejection answers 500.
 *
 * @example
 * const handler: Handler = (req, res) => sendJson(res, 200, { ok: true });
 */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * Listens on 127.0.0.1 (port 0 = ephemeral by default) and tracks sockets so `close()` is immediate.
 *
 * @example
 * const api = await listen((req, res) => sendJson(res, 200, { path: req.url }));
 * console.log(api.url); // http://127.0.0.1:40123
 * await api.close();
 */
export async function listen(
  handler: Handler,
  opts: { port?: number; host?: string } = {},
): Promise<RunningServer & { server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { code: 500, message: 'Internal Server Error', details: [String(error)] });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/**
 * One entry of a {@link routes} table; extend it with what the server needs (an endpoint name for
 * faults, say). `path` is compared segment by segment: `:name` takes one segment (which may be empty)
 * into `params.name`, a last segment `*name` takes every remaining segment (at least one, joined with
 * `/`) into `params.name`, and any other segment must be equal.
 *
 * @example
 * const route: Route<Handler> = {
 *   method: 'GET',
 *   path: '/api/:store/member',
 *   name: 'members-list',
 *   handler: (req, res) => sendJson(res, 200, []),
 * };
 */
export interface Route<H = unknown> {
  /** An upper-case method, or `'*'` for any. */
  readonly method: string;
  readonly path: string;
  /** The route's name, for records and logs. */
  readonly name: string;
  readonly handler: H;
}

/**
 * What {@link RouteTable.match} found: a route (200), no route for the path (404; `malformed` when
 * a segment is not valid percent-encoding), or routes for the path but not the method (405, with the
 * `Allow` header's value and the path's routes).
 *
 * @example
 * const found: RouteMatch<Route> = routes([]).match('GET', '/nowhere'); // { status: 404, malformed: false }
 */
export type RouteMatch<R extends Route> =
  | { readonly status: 200; readonly route: R; readonly params: Readonly<Record<string, string>> }
  | { readonly status: 404; readonly malformed: boolean }
  | { readonly status: 405; readonly allow: string; readonly routes: readonly R[] };

/**
 * A route table built by {@link routes}.
 *
 * @example
 * const ping: Route<Handler> = { method: 'GET', path: '/ping', name: 'ping', handler: (req, res) => void res.end('pong') };
 * const table: RouteTable<Route<Handler>> = routes([ping]);
 */
export interface RouteTable<R extends Route> {
  readonly routes: readonly R[];
  /**
   * The first route (in table order) whose path matches owns the path: a route on that same path with
   * the method (or `'*'`) answers, else it is a 405. So list literal paths before overlapping `:param` ones.
   */
  match(method: string, pathname: string): RouteMatch<R>;
}

/**
 * A small route table for the reference servers: routes are plain objects, matched in order, and the
 * caller decides what a 404 or 405 answers (each server has its own error bodies).
 *
 * @param opts.decode Percent-decode each segment before comparing (default true); `false` compares the
 *   raw path, as datarhei Core does.
 * @example
 * const table = routes<Route<Handler>>([
 *   { method: 'GET', path: '/api/:store/member/:id', name: 'member', handler: (req, res) => sendJson(res, 200, {}) },
 * ]);
 * const api = await listen((req, res) => {
 *   const found = table.match(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname);
 *   if (found.status === 200) return found.route.handler(req, res);
 *   sendJson(res, found.status, {}, found.status === 405 ? { allow: found.allow } : {});
 * });
 * await api.close();
 */
export function routes<R extends Route>(table: readonly R[], opts: { decode?: boolean } = {}): RouteTable<R> {
  const decode = opts.decode ?? true;
  const compiled = table.map((route) => ({ route, segments: route.path.split('/').slice(1) }));
  return {
    routes: table,
    match(method, pathname) {
      let parts = pathname.split('/').slice(1);
      if (decode) {
        try {
          parts = parts.map((p) => decodeURIComponent(p));
        } catch {
          return { status: 404, malformed: true };
        }
      }
      const wanted = method.toUpperCase();
      for (const { route, segments } of compiled) {
        const params = matchSegments(segments, parts);
        if (!params) continue;
        const onPath = table.filter((r) => r.path === route.path);
        const hit = onPath.find((r) => r.method === '*' || r.method === wanted);
        if (hit) return { status: 200, route: hit, params };
        return { status: 405, allow: [...new Set(onPath.map((r) => r.method))].join(', '), routes: onPath };
      }
      return { status: 404, malformed: false };
    },
  };
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, seg] of pattern.entries()) {
    if (seg.startsWith('*') && i === pattern.length - 1) {
      if (parts.length <= i) return undefined;
      params[seg.slice(1) || '*'] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (seg.startsWith(':')) params[seg.slice(1)] = part;
    else if (seg !== part) return undefined;
  }
  return parts.length === pattern.length ? params : undefined;
}

/**
 * Reads the body as text, up to 1 MiB.
 *
 * @example
 * const body = JSON.parse(await readBody(req));
 */
export async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  return (await readRawBody(req, limit)).toString('utf8');
}

/**
 * Reads the body as bytes, up to 1 MiB (for binary bodies an echo must return unchanged).
 *
 * @example
 * const bytes = await readRawBody(req);
 */
export function readRawBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Answers JSON with a status and extra headers.
 *
 * @example
 * sendJson(res, 429, { message: 'Too many requests' }, { 'retry-after': '60' });
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Answers an HTML page (as proxies do on errors).
 *
 * @example
 * sendHtml(res, 502, '<h1>Bad Gateway</h1>');
 */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

/**
 * `Authorization: Bearer x` → `x` (scheme matched case-insensitively), else `undefined`.
 *
 * @example
 * const token = bearerToken(req); // 'eyJ…' or undefined
 */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^bearer\s+(.+)$/i.exec(h.trim()) : null;
  return m?.[1];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
