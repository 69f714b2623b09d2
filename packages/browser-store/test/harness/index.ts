// A small harness for browser end-to-end runs, shared by this package's tests and usable by the demo:
// bundle built packages for the browser (esbuild, installed with tsup), serve pages and a CORS proxy
// in front of a reference server on 127.0.0.1, and drive Debian's Chromium through playwright-core
// (several pages of ONE context share localStorage, Web Locks and BroadcastChannel, as tabs do).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { listen, readRawBody, sendJson, type RunningServer } from '@auth/testing';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** esbuild as tsup's dependency (no extra install). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
}
async function loadEsbuild(): Promise<Esbuild> {
  const fromRoot = createRequire(`${repoRoot}package.json`);
  const fromTsup = createRequire(fromRoot.resolve('tsup'));
  return (await import(fromTsup.resolve('esbuild'))) as Esbuild;
}

/**
 * Bundles `entry` (TS or JS) for the browser as one ESM script. `@auth/*` imports resolve through the
 * workspace to each package's built `dist` (build first); `alias` maps more names to files.
 *
 * @example
 * const code = await bundleForBrowser({ entry: fileURLToPath(new URL('./fixtures/app.ts', import.meta.url)) });
 */
export async function bundleForBrowser(opts: { entry: string; alias?: Record<string, string> }): Promise<string> {
  const esbuild = await loadEsbuild();
  const out = await esbuild.build({
    entryPoints: [opts.entry],
    alias: opts.alias ?? {},
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/**
 * Serves fixed files (path → content) on 127.0.0.1: the app's origin. Other paths get 404.
 *
 * @example
 * const site = await serveFiles({ '/': { type: 'text/html', body: '<script type="module" src="/app.js"></script>' }, '/app.js': { type: 'text/javascript', body: code } });
 */
export async function serveFiles(files: Record<string, { type: string; body: string }>): Promise<RunningServer> {
  return listen((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files[path];
    if (!file) return sendJson(res, 404, { message: 'Not Found' });
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
    res.end(file.body);
  });
}

/** One request that went through a {@link corsProxy}. */
export interface ProxiedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  status: number;
}

/**
 * A CORS proxy: another 127.0.0.1 origin in front of `upstream` (a reference server), as a browser
 * sees a real API. It records every request with the Authorization header it carried.
 *
 * @example
 * const api = await corsProxy(openLoyalty.url);
 * // in the page: openLoyaltyMember({ baseUrl: api.url, ... })
 */
export async function corsProxy(upstream: string): Promise<RunningServer & { readonly seen: ProxiedRequest[] }> {
  const seen: ProxiedRequest[] = [];
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'authorization, content-type, x-auth-token',
    'access-control-allow-methods': 'GET, POST, PUT, DELETE',
    'access-control-expose-headers': 'retry-after, www-authenticate',
  };
  const running = await listen(async (req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return void res.end();
    }
    const record: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization, status: 0 };
    seen.push(record);
    const body = await readRawBody(req);
    const headers = new Headers();
    for (const name of ['authorization', 'content-type', 'accept', 'x-auth-token']) if (req.headers[name]) headers.set(name, String(req.headers[name]));
    // Not tied to the browser's connection: a tab closed mid-call leaves its call running upstream, as on a real network.
    const answer = await fetch(`${upstream}${req.url}`, { method: req.method, headers, body: body.length ? new Uint8Array(body) : undefined });
    record.status = answer.status;
    const out: Record<string, string> = { ...cors };
    answer.headers.forEach((v, k) => {
      if (!['content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(k)) out[k] = v;
    });
    const bytes = Buffer.from(await answer.arrayBuffer());
    if (res.destroyed) return;
    res.writeHead(answer.status, out);
    res.end(bytes);
  });
  return Object.assign(running, { seen });
}

/**
 * A third-party origin that records what reaches it (CORS open, so a leaked Authorization would be
 * preflighted and then seen here).
 *
 * @example
 * const third = await recorder();
 * expect(third.seen.every((r) => r.authorization === undefined)).toBe(true);
 */
export async function recorder(): Promise<RunningServer & { readonly seen: ProxiedRequest[] }> {
  const seen: ProxiedRequest[] = [];
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type, x-auth-token', 'access-control-allow-methods': 'GET, POST' };
  const running = await listen((req, res) => {
    seen.push({ method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization, status: 200 });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return void res.end();
    }
    sendJson(res, 200, { ok: true }, cors);
  });
  return Object.assign(running, { seen });
}

/**
 * Debian's Chromium, headless, with the flags this repository's tests use.
 *
 * @example
 * const browser = await launchChromium();
 * const context = await browser.newContext(); // one profile: its pages are tabs of one user
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Opens `url` in a new page (tab) of `context`, waits until `ready` is true in it, and collects the
 * page's uncaught errors.
 *
 * @example
 * const tab = await openTab(context, `${site.url}/?api=${api.url}`, 'window.app !== undefined');
 */
export async function openTab(context: BrowserContext, url: string, ready: string): Promise<Page & { errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(ready, undefined, { timeout: 20_000 });
  return Object.assign(page, { errors });
}
