// Test harness for real headless Chromium (`@auth/testing/browser`, a separate entry: it needs
// esbuild and playwright-core, which the reference servers do not): bundle built packages for the
// browser, serve them in a page on 127.0.0.1, put an API behind CORS on a second origin, record what
// a foreign origin receives, and launch Debian's Chromium.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { listen, readRawBody, sendJson, type Handler, type RunningServer } from './server-kit.js';

/**
 * Bundles `contents` (an ES module, typically re-exports of built packages) for the browser: ESM,
 * `platform: 'browser'` (so axios resolves to its browser build), dependencies resolved from
 * `resolveDir` through their package.json, i.e. their dist (not the repo's tsconfig paths to sources);
 * `alias` maps a module name to a file (a package's dist that `resolveDir` does not depend on).
 *
 * @example
 * const code = await bundleForBrowser({ contents: "export { createAuthSession } from '@auth/core';", resolveDir: packageDir });
 */
export async function bundleForBrowser(opts: { contents: string; resolveDir: string; external?: string[]; alias?: Record<string, string> }): Promise<string> {
  const out = await build({
    stdin: { contents: opts.contents, resolveDir: opts.resolveDir, loader: 'js', sourcefile: 'page-entry.js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: opts.external ?? [],
    alias: opts.alias ?? {},
    tsconfigRaw: {},
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** A page server: `/` loads `/bundle.js` and exposes its exports as `globalThis.authLib`. */
export interface PageServer extends RunningServer {
  /** Requests that reached the page's origin, other than the page and its bundle. */
  readonly seen: CapturedRequest[];
}

/**
 * Serves a page that imports `bundle` (as `globalThis.authLib`); every other path goes to `handler`
 * (default: 200 `{ ok: true }`) and is recorded in `seen`.
 *
 * @example
 * const page = await servePage({ bundle: code });
 * await tab.goto(`${page.url}/`);
 */
export async function servePage(opts: { bundle: string; handler?: Handler }): Promise<PageServer> {
  const seen: CapturedRequest[] = [];
  const running = await listen(async (req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end(`<!doctype html><title>auth</title><script type="module">import * as lib from '/bundle.js'; globalThis.authLib = lib;</script>`);
    }
    if (req.url === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return void res.end(opts.bundle);
    }
    if (req.url === '/favicon.ico') return void res.writeHead(404).end();
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

async function capture(req: IncomingMessage): Promise<CapturedRequest> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers, body: (await readRawBody(req)).toString('utf8') };
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

/**
 * The API origin as a page on another origin sees it: `upstream` (a reference server) behind CORS
 * headers. Forwards the method, path, body and the auth and content headers; passes redirects back
 * as they are (the browser follows them). `routes` may answer a request first (return `true`), e.g. a
 * redirect the API origin itself sends.
 *
 * @example
 * import { corsProxy } from '@auth/testing/browser';
 * const api = await corsProxy(server.url, { routes: (req, res) => req.url === '/moved' && (res.writeHead(302, { location: '/api/echo' }).end(), true) });
 */
export async function corsProxy(upstream: string, opts: { routes?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean> } = {}): Promise<RunningServer> {
  const cors = corsHeaders(AUTH_AND_BODY_HEADERS);
  return listen(async (req, res) => {
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (opts.routes && (await opts.routes(req, res))) return;
    const body = await readRawBody(req);
    const headers = new Headers();
    for (const name of [...AUTH_AND_BODY_HEADERS, 'accept']) if (req.headers[name]) headers.set(name, String(req.headers[name]));
    const answer = await fetch(`${upstream}${req.url}`, { method: req.method, headers, body: body.length ? new Uint8Array(body) : undefined, redirect: 'manual' });
    const out: Record<string, string> = { ...cors };
    answer.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
    });
    res.writeHead(answer.status, out);
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
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
export async function capturingServer(opts: { allowHeaders?: string[]; status?: number } = {}): Promise<CapturingServer> {
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
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

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
 * Opens `url` (a {@link servePage} page) in a new tab and waits for its bundle; `errors` collects
 * uncaught page errors, which a test should expect to stay empty.
 *
 * @example
 * const { page, errors } = await openPage(browser, `${pageServer.url}/`);
 */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => 'authLib' in globalThis);
  return { page, errors };
}
