// Test harness for real headless Chromium (`@auth/testing/browser`, a separate entry: it needs
// esbuild and playwright-core, which the reference servers do not): bundle built packages for the
// browser, serve them in a page on 127.0.0.1, put an API behind CORS on a second origin, record what
// a foreign origin receives, and launch Debian's Chromium (several pages of ONE context share
// localStorage, Web Locks and BroadcastChannel, as the tabs of one browser profile do).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { listen, readRawBody, sendJson, type Handler, type RunningServer } from './server-kit.js';

/** What {@link bundleForBrowser} bundles: an ES module's text, or a file (TS or JS) by absolute path. */
export type BrowserEntry = { contents: string; resolveDir: string } | { entry: string };

/**
 * Bundles an entry (an ES module given as `contents`, typically re-exports of built packages, or an
 * `entry` file) for the browser as one ESM script: `platform: 'browser'` (so axios resolves to its
 * browser build), dependencies resolved from `resolveDir` (or the entry file's folder) through their
 * package.json, i.e. their built `dist` (the repo's tsconfig paths to sources are ignored on purpose);
 * `alias` maps a module name to a file (a package's dist that the entry's package does not depend on).
 *
 * @example
 * const code = await bundleForBrowser({ contents: "export { createAuthSession } from '@auth/core';", resolveDir: packageDir });
 * const app = await bundleForBrowser({ entry: fileURLToPath(new URL('./fixtures/app.ts', import.meta.url)) });
 */
export async function bundleForBrowser(
  opts: BrowserEntry & { external?: string[]; alias?: Record<string, string> },
): Promise<string> {
  const input =
    'entry' in opts
      ? { entryPoints: [opts.entry] }
      : {
          stdin: {
            contents: opts.contents,
            resolveDir: opts.resolveDir,
            loader: 'js' as const,
            sourcefile: 'page-entry.js',
          },
        };
  const out = await build({
    ...input,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: opts.external ?? [],
    alias: opts.alias ?? {},
    // No tsconfig.json lookup (the repo's paths point at sources): with it, an entry file would bundle sources.
    tsconfigRaw: {},
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** A page server: the app's origin. */
export interface PageServer extends RunningServer {
  /** Requests that reached the page's origin, other than its files. */
  readonly seen: CapturedRequest[];
}

/** A file a {@link servePage} server answers with (200, `cache-control: no-store`). */
export interface PageFile {
  type: string;
  body: string;
}

/**
 * The app's origin on 127.0.0.1. With `bundle`, `/` is a page that imports `/bundle.js` (the bundle)
 * and exposes its exports as `globalThis.authLib`; `files` (path → file, looked up by path without
 * the query, at request time: files added later are served too) add or replace paths. Every other
 * path goes to `handler` (default: 200 `{ ok: true }`) and is recorded in `seen`.
 *
 * @example
 * const site = await servePage({ bundle: code });
 * await tab.goto(`${site.url}/`);
 * const app = await servePage({ files: { '/': { type: 'text/html', body: '<script type="module" src="/app.js"></script>' }, '/app.js': { type: 'text/javascript', body: code } } });
 */
export async function servePage(opts: {
  bundle?: string;
  files?: Record<string, PageFile>;
  handler?: Handler;
}): Promise<PageServer> {
  const seen: CapturedRequest[] = [];
  const files = opts.files ?? {};
  const defaults: Record<string, PageFile> =
    opts.bundle === undefined
      ? {}
      : {
          '/': {
            type: 'text/html',
            body: `<!doctype html><title>auth</title><script type="module">import * as lib from '/bundle.js'; globalThis.authLib = lib;</script>`,
          },
          '/bundle.js': { type: 'text/javascript', body: opts.bundle },
        };
  const running = await listen(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files[path] ?? defaults[path];
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
      return void res.end(file.body);
    }
    if (path === '/favicon.ico') return void res.writeHead(404).end();
    seen.push(await capture(req));
    if (opts.handler) return opts.handler(req, res);
    sendJson(res, 200, { ok: true });
  });
  return Object.assign(running, { seen });
}

/** What a capturing server saw of one request. */
export interface CapturedRequest {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: string;
}

async function capture(req: IncomingMessage, raw?: Buffer): Promise<CapturedRequest> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers,
    body: (raw ?? (await readRawBody(req))).toString('utf8'),
  };
}

/** The request headers the CORS servers here let a page send (and the API proxy forwards). */
const AUTH_AND_BODY_HEADERS = ['authorization', 'x-auth-token', 'content-type'];

/**
 * What a CORS-enabled server answers a page from another origin: `'*'` for any origin (including
 * `null`, the origin of a request redirected across origins), the listed request headers, the
 * response headers an adapter reads.
 */
function corsHeaders(allowHeaders: readonly string[]): Record<string, string> {
  return {
    'access-control-allow-origin': '*',
    ...(allowHeaders.length ? { 'access-control-allow-headers': allowHeaders.join(', ') } : {}),
    'access-control-allow-methods': 'GET, POST, PUT, DELETE',
    'access-control-expose-headers': 'retry-after, www-authenticate, location',
  };
}

/** One request that went through a {@link corsProxy}, with the status the upstream answered (0 until then). */
export interface ProxiedRequest extends CapturedRequest {
  status: number;
}

/** The API origin of a page: a reference server behind CORS, recording what went through. */
export interface CorsProxy extends RunningServer {
  /** Every request forwarded upstream (not preflights, not those `routes` answered). */
  readonly seen: ProxiedRequest[];
}

/**
 * The API origin as a page on another origin sees it: `upstream` (a reference server) behind CORS
 * headers. Forwards the method, path, body and the auth and content headers; passes redirects back
 * as they are (the browser follows them); records each forwarded request in `seen`. `routes` may
 * answer a request first (return `true`), e.g. a redirect the API origin itself sends.
 *
 * @example
 * import { corsProxy } from '@auth/testing/browser';
 * const api = await corsProxy(server.url, { routes: (req, res) => req.url === '/moved' && (res.writeHead(302, { location: '/api/echo' }).end(), true) });
 * expect(api.seen.filter((r) => r.headers.authorization)).toEqual([]);
 */
export async function corsProxy(
  upstream: string,
  opts: { routes?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean> } = {},
): Promise<CorsProxy> {
  const cors = corsHeaders(AUTH_AND_BODY_HEADERS);
  const seen: ProxiedRequest[] = [];
  const running = await listen(async (req, res) => {
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (opts.routes && (await opts.routes(req, res))) return;
    const body = await readRawBody(req);
    const record: ProxiedRequest = { ...(await capture(req, body)), status: 0 };
    seen.push(record);
    const headers = new Headers();
    for (const name of [...AUTH_AND_BODY_HEADERS, 'accept'])
      if (req.headers[name]) headers.set(name, String(req.headers[name]));
    // Not tied to the browser's connection: a tab closed mid-call leaves its call running upstream, as on a real
    // network.
    const answer = await fetch(`${upstream}${req.url}`, {
      method: req.method,
      headers,
      body: body.length ? new Uint8Array(body) : undefined,
      redirect: 'manual',
    });
    record.status = answer.status;
    const out: Record<string, string> = { ...cors };
    answer.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
    });
    const bytes = Buffer.from(await answer.arrayBuffer());
    if (res.destroyed) return;
    res.writeHead(answer.status, out);
    res.end(bytes);
  });
  return Object.assign(running, { seen });
}

/** A foreign origin that records every request reaching it, preflights (`OPTIONS`) included. */
export interface CapturingServer extends RunningServer {
  readonly seen: CapturedRequest[];
}

/**
 * A foreign origin for the page: answers 200 `{ ok: true }` (or `status`) with CORS headers that
 * allow `allowHeaders` (default `authorization, content-type`; `[]` allows only CORS-safelisted
 * ones), and records everything that reaches it.
 *
 * @example
 * import { capturingServer } from '@auth/testing/browser';
 * const foreign = await capturingServer({ allowHeaders: ['x-auth-token'] });
 * expect(foreign.seen.filter((r) => r.headers['x-auth-token'])).toEqual([]);
 */
export async function capturingServer(
  opts: { allowHeaders?: string[]; status?: number } = {},
): Promise<CapturingServer> {
  const cors = corsHeaders(opts.allowHeaders ?? ['authorization', 'content-type']);
  const seen: CapturedRequest[] = [];
  const running = await listen(async (req, res) => {
    seen.push(await capture(req));
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    sendJson(res, opts.status ?? 200, { ok: opts.status === undefined || opts.status < 400 }, cors);
  });
  return Object.assign(running, { seen });
}

/** Flags for Chromium in a container: no sandbox, no GPU, nothing that phones home. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium (`CHROMIUM_PATH`, default Debian's `/usr/bin/chromium`) through playwright-core.
 *
 * @example
 * import { launchChromium, openPage } from '@auth/testing/browser';
 * const browser = await launchChromium();
 * try {
 *   await openPage(browser, 'http://127.0.0.1:8080/');
 * } finally {
 *   await browser.close();
 * }
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * Opens `url` in a new tab of `target` (a browser, or one of its contexts: the pages of one context
 * are tabs of one profile) and waits until `ready` (a JS expression) holds in it, by default the
 * {@link servePage} bundle's `authLib`; `errors` collects uncaught page errors, which a test should
 * expect to stay empty.
 *
 * @example
 * const { page, errors } = await openPage(browser, `${pageServer.url}/`);
 * const { page: tab } = await openPage(context, `${site.url}/`, { ready: "'app' in window" });
 */
export async function openPage(
  target: Browser | BrowserContext,
  url: string,
  opts: { ready?: string } = {},
): Promise<{ page: Page; errors: string[] }> {
  const page = await target.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(opts.ready ?? "'authLib' in globalThis", undefined, { timeout: 30_000 });
  return { page, errors };
}
