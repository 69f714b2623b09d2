// End to end in real headless Chromium: the *built* fetch adapter, the core and the OpenLoyalty admin
// strategy (their dist, bundled for the browser by esbuild) run in a page served from 127.0.0.1 and
// talk to the OpenLoyalty reference server through a CORS proxy on another 127.0.0.1 origin.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import type * as Core from '@auth/core';
import type * as Admin from '@auth/openloyalty-admin';
import type * as FetchAdapter from '../src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, sendJson, type OpenLoyaltyServer, type RunningServer } from '@auth/testing';
import { startOpenLoyalty, startRecorder, type Recorder } from '../../axios-adapter/test/fixtures/servers.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dist = `${packageDir}dist/index.js`;

/** esbuild is installed as tsup's dependency; resolve it from there. */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
}
async function loadEsbuild(): Promise<Esbuild> {
  const fromRoot = createRequire(`${packageDir}../../package.json`);
  const fromTsup = createRequire(fromRoot.resolve('tsup'));
  return (await import(fromTsup.resolve('esbuild'))) as Esbuild;
}

async function bundle(): Promise<string> {
  const esbuild = await loadEsbuild();
  const out = await esbuild.build({
    stdin: {
      contents: [
        `export { createAuthFetch } from ${JSON.stringify(dist)};`,
        `export { createAuthSession } from '@auth/core';`,
        `export { openLoyaltyAdmin } from '@auth/openloyalty-admin';`,
      ].join('\n'),
      resolveDir: packageDir,
      loader: 'js',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, content-type',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE',
  'access-control-expose-headers': 'retry-after, www-authenticate',
};

describe('fetch adapter in headless Chromium', () => {
  let server: OpenLoyaltyServer;
  let proxy: RunningServer;
  let page: RunningServer;
  let third: Recorder;
  let pageRequests: { url: string; authorization: string | undefined }[];
  let pageTokens: [string, string | undefined][];
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(dist)) throw new Error(`build the package first: ${dist} is missing (turbo runs build before test)`);
    const code = await bundle();
    server = await startOpenLoyalty();
    third = await startRecorder();
    // The API origin, as the browser sees it: the reference server behind CORS headers.
    proxy = await listen(async (req, res) => {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, CORS);
        return void res.end();
      }
      const body = await readRaw(req);
      const headers = new Headers();
      for (const name of ['authorization', 'content-type', 'accept']) if (req.headers[name]) headers.set(name, String(req.headers[name]));
      const upstream = await fetch(`${server.url}${req.url}`, { method: req.method, headers, body: body.length ? new Uint8Array(body) : undefined });
      const out: Record<string, string> = { ...CORS };
      upstream.headers.forEach((v, k) => {
        if (k !== 'content-length' && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
      });
      res.writeHead(upstream.status, out);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    });
    pageRequests = [];
    pageTokens = [];
    page = await listen((req, res) => {
      if (req.url === '/redirect-me' || req.url === '/landed') pageTokens.push([req.url, req.headers['x-auth-token'] as string | undefined]);
      if (req.url === '/redirect-me') {
        res.writeHead(302, { location: '/landed' });
        return void res.end();
      }
      if (req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end(`<!doctype html><title>auth</title><script type="module">import * as lib from '/bundle.js'; window.authLib = lib;</script>`);
      }
      if (req.url === '/bundle.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        return void res.end(code);
      }
      if (req.url !== '/favicon.ico') pageRequests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      sendJson(res, 200, { ok: true });
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.close(), proxy?.close(), page?.close(), third?.close()]);
  });

  it('logs in, sends authenticated requests, refreshes on 401 and keeps the token to its origin', async () => {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`${page.url}/`);
    await tab.waitForFunction(() => 'authLib' in globalThis);
    const api = proxy.url;

    const first = await tab.evaluate(async (api) => {
      const m = (globalThis as Record<string, unknown>).authLib as typeof FetchAdapter & typeof Core & typeof Admin;
      const session = m.createAuthSession(m.openLoyaltyAdmin({ baseUrl: api, username: 'admin', password: 'password', rateLimit: { max: 20, windowMs: 1_500 } }));
      const authFetch = m.createAuthFetch(session);
      (globalThis as Record<string, unknown>).authFetch = authFetch;
      const res = await authFetch(`${api}/api/echo`);
      return { status: res.status, body: (await res.json()) as { user: { username: string }; headers: Record<string, string> } };
    }, api);
    expect(first.status).toBe(200);
    expect(first.body.user.username).toBe('admin');
    expect(first.body.headers.authorization).toBe('[present]');
    expect(server.counters.logins).toBe(1);

    server.revokeAccessTokens();
    const second = await tab.evaluate(async (api) => {
      const authFetch = (globalThis as Record<string, unknown>).authFetch as typeof fetch;
      const form = new FormData();
      form.append('field', 'from-the-browser');
      const res = await authFetch(`${api}/api/echo`, { method: 'POST', body: form });
      return { status: res.status, body: (await res.json()) as { body: string; method: string } };
    }, api);
    expect(second.status).toBe(200);
    expect(second.body.method).toBe('POST');
    expect(second.body.body).toContain('from-the-browser');
    expect(server.counters.apiRejected).toBe(1);
    expect(server.counters.refreshes).toBe(1);
    expect(server.counters.logins).toBe(1);

    const elsewhere = await tab.evaluate(
      async ({ third }) => {
        const authFetch = (globalThis as Record<string, unknown>).authFetch as typeof fetch;
        const a = await authFetch(`${third}/third-party`);
        const b = await authFetch('/relative-to-the-page');
        return [a.status, b.status];
      },
      { third: third.url },
    );
    expect(elsewhere).toEqual([200, 200]);
    expect(third.seen.map((s) => [s.url, s.authorization])).toEqual([['/third-party', undefined]]);
    expect(pageRequests).toEqual([{ url: '/relative-to-the-page', authorization: undefined }]);

    // The page's origin may carry the token, but a <base href> sends relative URLs elsewhere: fetch
    // resolves against the document's base URL, and so must the origin check.
    const viaBase = await tab.evaluate(
      async ({ third, api }) => {
        const m = (globalThis as Record<string, unknown>).authLib as typeof FetchAdapter & typeof Core & typeof Admin;
        const session = m.createAuthSession(m.openLoyaltyAdmin({ baseUrl: api, username: 'admin', password: 'password' }), {
          initialTokens: { accessToken: 'page-origin-token', expiresAt: Date.now() + 3_600_000 },
        });
        const pageFetch = m.createAuthFetch(session, { origins: [location.origin] });
        const own = await pageFetch('/own-origin');
        const base = document.createElement('base');
        base.href = `${third}/based/`;
        document.head.append(base);
        const res = await pageFetch('relative-under-base');
        return [own.status, res.status];
      },
      { third: third.url, api },
    );
    expect(viaBase).toEqual([200, 200]);
    expect(pageRequests.at(-1)).toEqual({ url: '/own-origin', authorization: 'Bearer page-origin-token' });
    expect(third.seen.map((s) => [s.url, s.authorization])).toEqual([
      ['/third-party', undefined],
      ['/based/relative-under-base', undefined],
    ]);

    // A custom auth header: the browser would answer a manual redirect opaquely, so the adapter
    // leaves redirects to it (same origin here: the header goes along).
    const keyed = await tab.evaluate(async () => {
      const m = (globalThis as Record<string, unknown>).authLib as typeof FetchAdapter & typeof Core;
      const session = m.createAuthSession({ name: 'custom-header', origins: [location.origin], login: async () => ({ accessToken: 'page-key' }), authorize: (t) => ({ 'x-auth-token': t.accessToken }) });
      const res = await m.createAuthFetch(session)(`${location.origin}/redirect-me`);
      return { status: res.status, type: res.type, redirected: res.redirected, body: await res.text() };
    });
    expect(keyed).toEqual({ status: 200, type: 'basic', redirected: true, body: '{"ok":true}' });
    expect(pageTokens).toEqual([
      ['/redirect-me', 'page-key'],
      ['/landed', 'page-key'],
    ]);
    expect(errors).toEqual([]);
    await tab.close();
  }, 60_000);
});
