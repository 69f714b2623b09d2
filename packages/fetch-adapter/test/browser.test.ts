// End to end in real headless Chromium: the *built* fetch adapter, the core and the OpenLoyalty admin
// strategy (their dist, bundled for the browser by esbuild) run in a page served from 127.0.0.1 and
// talk to the OpenLoyalty reference server through a CORS proxy on another 127.0.0.1 origin.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import type * as Core from '@auth/core';
import type * as Admin from '@auth/openloyalty-admin';
import type * as FetchAdapter from '../src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, type OpenLoyaltyServer, type RunningServer } from '@auth/testing';
import { bundleForBrowser, corsProxy, launchChromium, openPage, servePage } from '@auth/testing/browser';
import { describeBrowserScenarios } from '../../axios-adapter/test/fixtures/browser-scenarios.js';
import { startOpenLoyalty, startRecorder, type Recorder } from '../../axios-adapter/test/fixtures/servers.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dist = `${packageDir}dist/index.js`;

describe('fetch adapter in headless Chromium', () => {
  let server: OpenLoyaltyServer;
  let proxy: RunningServer;
  let page: RunningServer;
  let third: Recorder;
  let pageRequests: { url: string; authorization: string | undefined }[];
  let pageTokens: [string, string | undefined][];
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(dist))
      throw new Error(`build the package first: ${dist} is missing (turbo runs build before test)`);
    const code = await bundleForBrowser({
      contents: [
        `export { createAuthFetch } from ${JSON.stringify(dist)};`,
        `export { createAuthSession } from '@auth/core';`,
        `export { openLoyaltyAdmin } from '@auth/openloyalty-admin';`,
      ].join('\n'),
      resolveDir: packageDir,
    });
    server = await startOpenLoyalty();
    third = await startRecorder();
    // The API origin, as the browser sees it: the reference server behind CORS headers.
    proxy = await corsProxy(server.url);
    pageRequests = [];
    pageTokens = [];
    page = await servePage({
      bundle: code,
      handler: (req, res) => {
        if (req.url === '/redirect-me' || req.url === '/landed')
          pageTokens.push([req.url, req.headers['x-auth-token'] as string | undefined]);
        if (req.url === '/redirect-me') {
          res.writeHead(302, { location: '/landed' });
          return void res.end();
        }
        pageRequests.push({ url: req.url ?? '', authorization: req.headers.authorization });
        sendJson(res, 200, { ok: true });
      },
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.close(), proxy?.close(), page?.close(), third?.close()]);
  });

  it('logs in, sends authenticated requests, refreshes on 401 and keeps the token to its origin', async () => {
    const { page: tab, errors } = await openPage(browser, `${page.url}/`);
    const api = proxy.url;

    const first = await tab.evaluate(async (api) => {
      const m = (globalThis as Record<string, unknown>).authLib as typeof FetchAdapter & typeof Core & typeof Admin;
      const session = m.createAuthSession(
        m.openLoyaltyAdmin({
          baseUrl: api,
          username: 'admin',
          password: 'password',
          rateLimit: { max: 20, windowMs: 1_500 },
        }),
      );
      const authFetch = m.createAuthFetch(session);
      (globalThis as Record<string, unknown>).authFetch = authFetch;
      const res = await authFetch(`${api}/api/echo`);
      return {
        status: res.status,
        body: (await res.json()) as { user: { username: string }; headers: Record<string, string> },
      };
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
        const session = m.createAuthSession(
          m.openLoyaltyAdmin({ baseUrl: api, username: 'admin', password: 'password' }),
          {
            initialTokens: { accessToken: 'page-origin-token', expiresAt: Date.now() + 3_600_000 },
          },
        );
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
      const session = m.createAuthSession({
        name: 'custom-header',
        origins: [location.origin],
        login: async () => ({ accessToken: 'page-key' }),
        authorize: (t) => ({ 'x-auth-token': t.accessToken }),
      });
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

// The scenarios the axios adapter runs in Chromium, for the fetch adapter on the browser's fetch.
describeBrowserScenarios('fetch-adapter');
