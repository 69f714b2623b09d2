// datarhei Core's admin UI case in real Chromium: tabs of one context on the browser store, the
// password strategy asking for credentials only when a login cannot be avoided, against the Core
// reference server (non-rotating refresh tokens, Core's 5 s delay on rejected logins) behind CORS.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createDatarheiServer, listen, sendJson, type DatarheiServer, type RunningServer } from '@auth/testing';
import { bundleForBrowser, corsProxy, launchChromium, openPage, servePage } from '@auth/testing/browser';
import type { App } from './fixtures/app.js';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const ADMIN = { username: 'admin', password: 'C0re-Secret-From-The-Form' };
declare const app: App;

let core: DatarheiServer;
let api: RunningServer;
let tenant: RunningServer & { minted: number };
let auth0Core: DatarheiServer;
let auth0Api: RunningServer;
let site: RunningServer;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  if (!existsSync(dist)) throw new Error(`build the package first: ${dist} is missing (turbo runs build before test)`);
  const code = await bundleForBrowser({
    entry: fileURLToPath(new URL('./fixtures/app.ts', import.meta.url)),
    alias: { '@auth/browser-store': dist },
  });
  // Core's own failed-login delay (5 s) is kept: the browser must see the rejection, not a timeout.
  core = await createDatarheiServer({ ...ADMIN });
  api = await corsProxy(core.url);
  tenant = await auth0Tenant();
  auth0Core = await createDatarheiServer({
    failedLoginDelayMs: 5,
    auth0Tenants: [{ issuer: `${tenant.url}/`, users: ['user-42'] }],
  });
  auth0Api = await corsProxy(auth0Core.url);
  site = await servePage({
    files: {
      '/': {
        type: 'text/html',
        body: '<!doctype html><title>core ui</title><script type="module" src="/app.js"></script>',
      },
      '/app.js': { type: 'text/javascript', body: code },
    },
  });
  browser = await launchChromium();
  context = await browser.newContext();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([
    core?.close(),
    api?.close(),
    site?.close(),
    tenant?.close(),
    auth0Core?.close(),
    auth0Api?.close(),
  ]);
});

/**
 * An Auth0 tenant as Core sees it (RS256 JWKS) and as a browser app's SPA SDK would hand out tokens (`/token`, CORS).
 */
async function auth0Tenant(): Promise<RunningServer & { minted: number }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const state = { minted: 0 };
  const running = await listen(async (req, res) => {
    if (req.url === '/.well-known/jwks.json') return sendJson(res, 200, { keys: [jwk] });
    if (req.url === '/token') {
      state.minted += 1;
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(`${running.url}/`)
        .setSubject('user-42')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey);
      return sendJson(res, 200, { access_token: token }, { 'access-control-allow-origin': '*' });
    }
    sendJson(res, 404, {});
  });
  return Object.defineProperty(running, 'minted', { get: () => state.minted }) as unknown as RunningServer & {
    minted: number;
  };
}

const url = () => `${site.url}/?${new URLSearchParams({ api: api.url, strategy: 'datarhei', prefix: 'core-ui' })}`;
/** A tab of `target` on `url`, its uncaught page errors in `errors`. */
async function openTab(target: BrowserContext, url: string): Promise<Page & { errors: string[] }> {
  const { page, errors } = await openPage(target, url, { ready: "'app' in window" });
  return Object.assign(page, { errors });
}
const open = () => openTab(context, url());
const answerWith = (tab: Page, c: typeof ADMIN | undefined) => tab.evaluate((c) => void (app.state.credentials = c), c);
const burst = (tab: Page, n: number) => tab.evaluate((n) => app.burst(n), n);
const exported = (tab: Page) => tab.evaluate(() => app.session.exportTokens());

describe('datarhei Core admin UI in Chromium tabs', () => {
  it("wrong password: CREDENTIALS_REJECTED after Core's delay; then tabs share one login, one non-rotating refresh, and survive reloads", async () => {
    const first = await open();
    await answerWith(first, { username: ADMIN.username, password: 'wrong' });
    expect(await burst(first, 2)).toMatchObject({
      ok: 0,
      failed: 2,
      errors: ['CREDENTIALS_REJECTED', 'CREDENTIALS_REJECTED'],
    });
    expect(core.counters).toMatchObject({ failedLogins: 1, logins: 0 });

    await answerWith(first, ADMIN);
    expect(await burst(first, 5)).toMatchObject({ ok: 5, failed: 0 });
    await answerWith(first, undefined);
    const others = [await open(), await open()];
    const all = [first, ...others];
    expect((await Promise.all(others.map((t) => burst(t, 5)))).map((r) => r.ok)).toEqual([5, 5]);
    expect(core.counters.logins).toBe(1);
    const before = await exported(first);

    // Core restarted with a new secret: every access token is refused; the refresh token still works.
    core.revokeAccessTokens();
    core.resetCounters();
    const storm = await Promise.all(all.map((t) => burst(t, 30)));
    expect(storm.map((r) => r.failed)).toEqual([0, 0, 0]);
    expect(core.counters).toMatchObject({ refreshes: 1, failedRefreshes: 0, logins: 0 });
    const after = await Promise.all(all.map(exported));
    for (const tokens of after) {
      expect(tokens?.accessToken).toBe(after[0]?.accessToken);
      expect(tokens?.accessToken).not.toBe(before?.accessToken);
      // Not rotated: the same refresh token, kept.
      expect(tokens?.refreshToken).toBe(before?.refreshToken);
    }

    core.resetCounters();
    for (const tab of all) {
      await tab.reload();
      await tab.waitForFunction(() => 'app' in window);
    }
    expect((await Promise.all(all.map((t) => burst(t, 5)))).map((r) => r.ok)).toEqual([5, 5, 5]);
    expect(core.counters).toMatchObject({ logins: 0, refreshes: 0 });
    // (the counters restart with each page load)
    expect(await Promise.all(all.map((t) => t.evaluate(() => app.state.asked)))).toEqual([0, 0, 0]);

    // A dead refresh token after the reload: only now is the app asked, in the one tab that renews.
    core.expireRefreshTokens();
    core.revokeAccessTokens();
    for (const tab of all) await answerWith(tab, ADMIN);
    expect((await Promise.all(all.map((t) => burst(t, 10)))).map((r) => r.failed)).toEqual([0, 0, 0]);
    expect(core.counters).toMatchObject({ logins: 1 });
    const asked = await Promise.all(all.map((t) => t.evaluate(() => app.state.asked)));
    expect(asked.reduce((a, b) => a + b, 0)).toBe(1);
    const stored = await first.evaluate(() => JSON.stringify({ ...localStorage }));
    expect(stored).not.toContain(ADMIN.password);
    for (const tab of all) expect(tab.errors).toEqual([]);
  }, 90_000);

  it("datarhei-auth0 with the SPA SDK's token: one Core login for all tabs, one refresh across tabs, reloads need no Auth0 token", async () => {
    const context2 = await browser.newContext();
    const url2 = `${site.url}/?${new URLSearchParams({ api: auth0Api.url, strategy: 'datarhei-auth0', idp: tenant.url, prefix: 'core-auth0' })}`;
    const tabs = [];
    for (let i = 0; i < 3; i += 1) tabs.push(await openTab(context2, url2));
    expect((await burst(tabs[0]!, 5)).ok).toBe(5);
    expect((await Promise.all(tabs.slice(1).map((t) => burst(t, 5)))).map((r) => r.ok)).toEqual([5, 5]);
    expect(auth0Core.counters).toMatchObject({ auth0Logins: 1, refreshes: 0 });
    expect(tenant.minted).toBe(1);

    auth0Core.revokeAccessTokens();
    auth0Core.resetCounters();
    const storm = await Promise.all(tabs.map((t) => burst(t, 30)));
    expect(storm.map((r) => r.failed)).toEqual([0, 0, 0]);
    expect(auth0Core.counters).toMatchObject({ refreshes: 1, failedRefreshes: 0, auth0Logins: 0 });

    for (const tab of tabs) {
      await tab.reload();
      await tab.waitForFunction(() => 'app' in window);
    }
    expect((await Promise.all(tabs.map((t) => burst(t, 5)))).map((r) => r.ok)).toEqual([5, 5, 5]);
    expect(auth0Core.counters).toMatchObject({ auth0Logins: 0, refreshes: 1 });
    expect(tenant.minted).toBe(1);
    for (const tab of tabs) expect(tab.errors).toEqual([]);
    await context2.close();
  }, 60_000);
});
