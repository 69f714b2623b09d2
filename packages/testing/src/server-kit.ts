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
export async function listen(handler: Handler, opts: { port?: number; host?: string } = {}): Promise<RunningServer & { server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { code: 500, message: 'Internal Server Error', details: [String(error)] });
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
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
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
