// Real headless Chromium, several pages (tabs) of ONE browser context, the built packages bundled
// for the browser, the OpenLoyalty reference server with MEMBER tokens and rotating single-use
// refresh tokens behind a CORS proxy (another origin than the page's).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import {
  bundleForBrowser,
  capturingServer,
  corsProxy,
  launchChromium,
  openPage,
  servePage,
  type CapturingServer,
  type CorsProxy,
  type PageFile,
  type PageServer,
} from '@auth/testing/browser';
import type { App, BurstResult } from './fixtures/app.js';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const MEMBER = { username: 'member@example.com', password: 'Wr1tten-Only-In-The-Form' };

type Tab = Page & { errors: string[] };
declare const app: App;

let server: OpenLoyaltyServer;
let api: CorsProxy;
let site: PageServer;
let third: CapturingServer;
let browser: Browser;
let context: BrowserContext;
let files: Record<string, PageFile>;

const PAGE = `<!doctype html><title>member app</title>
<script>
const q = new URLSearchParams(location.search);
if (q.has('nolocks')) delete Navigator.prototype.locks;
if (q.has('nochannel')) delete window.BroadcastChannel;
</script>
<script type="module" src="/app.js"></script>`;

beforeAll(async () => {
  if (!existsSync(dist)) throw new Error(`build the package first: ${dist} is missing (turbo runs build before test)`);
  const code = await bundleForBrowser({
    entry: fileURLToPath(new URL('./fixtures/app.ts', import.meta.url)),
    alias: { '@auth/browser-store': dist },
  });
  server = await createOpenLoyaltyServer({ stores: { default: [MEMBER] }, accessTokenTtlSec: 3_600, rateLimit: false });
  api = await corsProxy(server.url);
  third = await capturingServer();
  files = { '/': { type: 'text/html', body: PAGE }, '/app.js': { type: 'text/javascript', body: code } };
  site = await servePage({ files });
  // A page whose <base href> points at another origin (the app script itself is loaded by absolute URL).
  files['/based'] = {
    type: 'text/html',
    body: `<!doctype html><title>based</title><script type="module" src="${site.url}/app.js"></script><base href="${third.url}/based/">`,
  };
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.close(), api?.close(), site?.close(), third?.close()]);
});

beforeEach(async () => {
  context = await browser.newContext();
  server.resetCounters();
  server.faults.clear();
  api.seen.length = 0;
});
afterEach(async () => {
  await context.close();
});

const appUrl = (query: Record<string, string> = {}) =>
  `${site.url}/?${new URLSearchParams({ api: api.url, ...query })}`;
/** A tab of the context on `url`, its uncaught page errors in `errors`. */
async function openTab(url: string): Promise<Tab> {
  const { page, errors } = await openPage(context, url, { ready: 'window.app !== undefined' });
  return Object.assign(page, { errors });
}
const open = (query?: Record<string, string>) => openTab(appUrl(query));

/** Fills the "login form" of a tab: what its credentials callback answers from now on (undefined: closed). */
const answerWith = (tab: Page, credentials: typeof MEMBER | undefined) =>
  tab.evaluate((c) => void (app.state.credentials = c), credentials);
const burst = (tab: Page, n: number) => tab.evaluate((n) => app.burst(n), n);
const asked = (tab: Page) => tab.evaluate(() => app.state.asked);
const accessToken = (tab: Page) => tab.evaluate(async () => (await app.session.exportTokens())?.accessToken);
/** Fills the origin's localStorage to the last byte (halving the chunk each time a write is refused). */
const fillLocalStorage = (tab: Page) =>
  tab.evaluate(() => {
    let i = 0;
    for (let size = 1 << 20; size >= 1;) {
      try {
        localStorage.setItem(`filler-${(i += 1)}`, 'x'.repeat(size));
      } catch {
        size = Math.floor(size / 2);
      }
    }
  });

/** One tab logs in through its form, the others open on the tokens it stored. */
async function tabs(n: number, query?: Record<string, string>): Promise<Tab[]> {
  const first = await open(query);
  await answerWith(first, MEMBER);
  expect(await burst(first, 1)).toMatchObject({ ok: 1 });
  await answerWith(first, undefined);
  const rest = [];
  for (let i = 1; i < n; i += 1) rest.push(await open(query));
  return [first, ...rest];
}

/** Puts an already expired access token (with a live refresh token) into every tab, through one tab's import. */
async function expireEverywhere(all: Tab[]): Promise<string> {
  const issued = await server.issueTokens({ username: MEMBER.username, store: 'default', accessTokenTtlSec: -10 });
  await all[0]!.evaluate(
    (t) => app.session.importTokens({ accessToken: t.token, refreshToken: t.refresh_token }),
    issued,
  );
  for (const tab of all)
    await tab.waitForFunction(
      (t) =>
        app.session.peekToken() === undefined &&
        app.store.get(app.session.strategy.storeKey!).then((v) => v?.tokens.accessToken === t),
      issued.token,
    );
  for (const tab of all) expect(await accessToken(tab)).toBe(issued.token);
  server.resetCounters();
  return issued.token;
}

function total(results: BurstResult[]) {
  return {
    ok: results.reduce((n, r) => n + r.ok, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    errors: results.flatMap((r) => r.errors),
  };
}

describe('member app in several Chromium tabs (one context)', () => {
  it('4 tabs × 50 requests on an expired access token: 1 refresh in total, 0 failed, no refresh token presented twice; every tab reloaded: 0 logins', async () => {
    const all = await tabs(4);
    expect(server.counters.logins).toBe(1);
    await expireEverywhere(all);

    const results = await Promise.all(all.map((tab) => burst(tab, 50)));
    if (total(results).failed)
      console.log(
        JSON.stringify(server.counters),
        JSON.stringify(await Promise.all(all.map((t) => t.evaluate(() => [app.state.events, app.state.logs])))),
        server.requests.filter((r) => r.endpoint !== 'api').map((r) => `${r.path} ${r.status}`),
      );
    expect(total(results)).toEqual({ ok: 200, failed: 0, errors: [] });
    expect(server.counters).toMatchObject({ refreshes: 1, refreshesRejected: 0, logins: 0, apiRejected: 0 });
    const renewed = await accessToken(all[0]!);
    for (const tab of all) expect(await accessToken(tab)).toBe(renewed);
    // Which tab renewed and which adopted: one 'refresh' event in all tabs together.
    const refreshEvents = await Promise.all(
      all.map((tab) => tab.evaluate(() => app.state.events.filter((e) => e === 'refresh').length)),
    );
    expect(refreshEvents.reduce((a, b) => a + b, 0)).toBe(1);

    server.resetCounters();
    for (const tab of all) await tab.reload();
    for (const tab of all) await tab.waitForFunction(() => 'app' in window);
    const after = await Promise.all(all.map((tab) => burst(tab, 10)));
    expect(total(after)).toEqual({ ok: 40, failed: 0, errors: [] });
    expect(server.counters).toMatchObject({ logins: 0, refreshes: 0 });
    for (const tab of all) expect(await asked(tab)).toBe(0);
    for (const tab of all) expect(tab.errors).toEqual([]);
    // The password was only in the form: in no storage of the origin.
    const stored = await all[0]!.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    expect(stored).toContain('@auth/browser-store');
    expect(stored).not.toContain(MEMBER.password);
  }, 90_000);

  it('the tab holding the renewal lock is closed while the server delays its refresh: another tab completes the renewal, 0 failed in the others', async () => {
    const all = await tabs(4);
    await expireEverywhere(all);
    server.faults.add({ endpoint: 'member-refresh', fault: { kind: 'delay', ms: 4_000 } });
    const [holder, ...survivors] = all as [Tab, ...Tab[]];
    void holder.evaluate(() => app.burst(5)).catch(() => {});
    // The holder's refresh has reached the server (and is held there): it holds the lock.
    await expect
      .poll(() => server.requests.filter((r) => r.endpoint === 'member-refresh').length, { timeout: 20_000 })
      .toBe(1);
    const pending = survivors.map((tab) => burst(tab, 20));
    // Every survivor is waiting for the lock before the holder goes away.
    await expect
      .poll(() => holder.evaluate(async () => (await navigator.locks.query()).pending?.length ?? 0), {
        timeout: 20_000,
      })
      .toBe(3);
    await holder.close();
    const results = await Promise.all(pending);
    expect(total(results)).toEqual({ ok: 60, failed: 0, errors: [] });
    // The survivors refreshed once (the dead tab's held call may spend the old refresh token after it: refused,
    // harmlessly).
    expect(server.counters.logins).toBe(0);
    expect(
      server.requests.filter((r) => r.endpoint === 'member-refresh' && r.status === 200).length,
    ).toBeGreaterThanOrEqual(1);
    for (const tab of survivors) expect(await asked(tab)).toBe(0);
    const renewed = await accessToken(survivors[0]!);
    for (const tab of survivors) expect(await accessToken(tab)).toBe(renewed);
    // The dead tab's held call is answered after its delay; let it land here, not in the next test.
    await expect
      .poll(() => server.requests.filter((r) => r.endpoint === 'member-refresh' && r.status === 0).length, {
        timeout: 20_000,
      })
      .toBe(0);
  }, 90_000);

  it('logout in one tab: the other tabs send no token afterwards (and ask for the login form)', async () => {
    const all = await tabs(3);
    const [leaving, ...others] = all as [Tab, ...Tab[]];
    expect(total(await Promise.all(others.map((tab) => burst(tab, 5))))).toMatchObject({ ok: 10, failed: 0 });
    await leaving.evaluate(() => app.session.logout());
    expect(server.counters.revokes).toBe(1);
    for (const tab of others)
      await tab.waitForFunction(() => app.session.peekToken() === undefined && app.state.events.includes('logout'));
    const sentBefore = api.seen.length;
    const results = await Promise.all(others.map((tab) => burst(tab, 5)));
    expect(total(results)).toMatchObject({ ok: 0, failed: 10 });
    expect(new Set(total(results).errors)).toEqual(new Set(['CREDENTIALS_REQUIRED']));
    // Nothing reached the API with a token after the logout (a login form cancelled: no login either).
    expect(api.seen.slice(sentBefore).filter((r) => r.headers.authorization !== undefined)).toEqual([]);
    for (const tab of others) expect(await asked(tab)).toBeGreaterThanOrEqual(1);
    expect(await leaving.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('app:')))).toEqual([]);
  }, 90_000);

  it('logout in one tab while another tab renews: the renewal does not bring the session back, its tokens are the ones revoked', async () => {
    const all = await tabs(3);
    const [renewing, leaving, watching] = all as [Tab, Tab, Tab];
    await expireEverywhere(all);
    // The renewing tab's refresh is answered by the server (the refresh token rotated) and its answer
    // is held in transit until the other tab's logout has been given its chance.
    let answered!: (token: string) => void;
    const refreshAnswered = new Promise<string>((resolve) => (answered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await renewing.route('**/token/refresh', async (route) => {
      const response = await route.fetch();
      answered(((await response.json()) as { token: string }).token);
      await gate;
      await route.fulfill({ response });
    });
    const renewal = burst(renewing, 5);
    const renewed = await refreshAnswered;
    expect(server.counters.refreshes).toBe(1);
    let loggedOut = false;
    const logout = leaving.evaluate(() => app.session.logout()).then(() => void (loggedOut = true));
    // Either the logout is done (it did not wait) or it waits for the renewal lock: then let the answer through.
    await expect
      .poll(
        async () =>
          loggedOut || (await leaving.evaluate(async () => (await navigator.locks.query()).pending?.length ?? 0)) > 0,
        { timeout: 20_000 },
      )
      .toBe(true);
    release();
    await Promise.all([renewal, logout]);
    // Every tab is logged out and nothing is left on disk: a reload would not bring the session back either.
    for (const tab of all) await tab.waitForFunction(() => app.state.events.includes('logout'));
    for (const tab of all) expect(await accessToken(tab)).toBeUndefined();
    expect(await leaving.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('app:')))).toEqual([]);
    const sentBefore = api.seen.length;
    const after = await Promise.all([leaving, watching, renewing].map((tab) => burst(tab, 3)));
    expect(total(after)).toMatchObject({ ok: 0, failed: 9 });
    expect(new Set(total(after).errors)).toEqual(new Set(['CREDENTIALS_REQUIRED']));
    expect(api.seen.slice(sentBefore).filter((r) => r.headers.authorization !== undefined)).toEqual([]);
    expect(server.counters).toMatchObject({ revokes: 1, logins: 0 });
    expect(api.seen.filter((r) => r.url.includes('/token/revoke')).map((r) => r.headers.authorization)).toEqual([
      `Bearer ${renewed}`,
    ]);
  }, 90_000);

  it('after a reload a dead refresh token makes the app ask for credentials (once), never a stored password', async () => {
    const [tab] = (await tabs(1)) as [Tab];
    await tab.reload();
    await tab.waitForFunction(() => 'app' in window);
    server.resetCounters();
    expect(await burst(tab, 3)).toMatchObject({ ok: 3 });
    expect(await asked(tab)).toBe(0);
    expect(server.counters.logins).toBe(0);

    server.expireRefreshTokens();
    server.revokeAccessTokens();
    await answerWith(tab, MEMBER);
    expect(await burst(tab, 10)).toMatchObject({ ok: 10, failed: 0 });
    expect(await asked(tab)).toBe(1);
    expect(server.counters).toMatchObject({ refreshesRejected: 1, logins: 1 });
  }, 60_000);

  it('a tab granted the lock before the previous renewal reached its storage waits for it (generation marker), never spending the old refresh token', async () => {
    // Other tabs' writes reach each tab 700 ms late, and there is no BroadcastChannel to bring them sooner.
    const query = { lag: '700', nochannel: '1', prefix: 'laggy' };
    const [first, second] = (await tabs(2, query)) as [Tab, Tab];
    const issued = await server.issueTokens({ username: MEMBER.username, store: 'default', accessTokenTtlSec: -10 });
    await first.evaluate(
      (t) => app.session.importTokens({ accessToken: t.token, refreshToken: t.refresh_token }),
      issued,
    );
    await second.reload();
    await second.waitForFunction(() => 'app' in window);
    await second.waitForFunction((t) => app.session.exportTokens().then((v) => v?.accessToken === t), issued.token);
    server.resetCounters();
    const results = await Promise.all([burst(first, 20), burst(second, 20)]);
    expect(total(results)).toEqual({ ok: 40, failed: 0, errors: [] });
    expect(server.counters).toMatchObject({ refreshes: 1, refreshesRejected: 0, logins: 0 });
  }, 60_000);

  it('a renewal lock held for ever elsewhere: the wait ends with TIMEOUT after waitTimeoutMs, and closing the session ends it with ABORTED', async () => {
    const [first] = (await tabs(1, { waitTimeoutMs: '1500' })) as [Tab];
    const other = await open({ waitTimeoutMs: '1500' });
    await expireEverywhere([first, other]);
    // Another tab (a stuck script) takes the renewal lock and never lets go.
    await first.evaluate(() => {
      void navigator.locks.request(`app:${app.session.strategy.storeKey}:renewal`, () => new Promise(() => {}));
    });
    expect(await burst(other, 3)).toMatchObject({ ok: 0, failed: 3, errors: ['TIMEOUT', 'TIMEOUT', 'TIMEOUT'] });
    const closed = await other.evaluate(async () => {
      const waiting = app.session.getToken().then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      );
      await new Promise((r) => setTimeout(r, 100));
      app.session.close();
      return waiting;
    });
    expect(closed).toBe('ABORTED');
    expect(server.counters.authCalls).toBe(0);
  }, 60_000);

  it("refreshToken: 'session' keeps the refresh token out of localStorage; the tab's reload still refreshes without a login", async () => {
    const query = { refreshToken: 'session', prefix: 'rt-session' };
    const [first, second] = (await tabs(2, query)) as [Tab, Tab];
    const where = () =>
      first.evaluate(() => ({
        local: Object.entries(localStorage).filter(([k]) => k.startsWith('rt-session:')),
        session: Object.keys(sessionStorage).filter((k) => k.startsWith('rt-session:')),
      }));
    const before = await where();
    expect(before.local).toHaveLength(1);
    expect(before.local[0]![1]).not.toContain('refreshToken');
    expect(before.session).toEqual([`${before.local[0]![0]}:refresh`]);
    // Opened after the login, the second tab found no refresh token on disk.
    expect(await second.evaluate(async () => (await app.session.exportTokens())?.refreshToken)).toBeUndefined();

    await first.reload();
    await first.waitForFunction(() => 'app' in window);
    await expireEverywhere([first, second]);
    // The import in the first tab reached the second over the channel, refresh token included.
    expect(await second.evaluate(async () => (await app.session.exportTokens())?.refreshToken !== undefined)).toBe(
      true,
    );
    await first.reload();
    await first.waitForFunction(() => 'app' in window);
    expect(await first.evaluate(async () => (await app.session.exportTokens())?.refreshToken !== undefined)).toBe(true);
    expect(await burst(first, 10)).toMatchObject({ ok: 10, failed: 0 });
    expect(await burst(second, 10)).toMatchObject({ ok: 10, failed: 0 });
    expect(server.counters).toMatchObject({ refreshes: 1, refreshesRejected: 0, logins: 0 });
    expect(await asked(first)).toBe(0);
    expect((await where()).local[0]![1]).not.toContain('refreshToken');
  }, 60_000);

  it('without Web Locks: a typed CONFIGURATION error by default; withoutLocks: "tab" renews per tab', async () => {
    const refused = await open({ nolocks: '1' });
    expect(await refused.evaluate(() => app.state.initError)).toMatchObject({
      code: 'CONFIGURATION',
      message: expect.stringContaining('navigator.locks') as string,
    });
    const [first, second] = (await tabs(2, { nolocks: '1', withoutLocks: 'tab' })) as [Tab, Tab];
    expect(await first.evaluate(() => [typeof navigator.locks, app.store.locked])).toEqual(['undefined', false]);
    await expireEverywhere([first, second]);
    // One tab at a time: its renewal is shared by its requests and adopted by the other tab.
    expect(await burst(first, 20)).toMatchObject({ ok: 20, failed: 0 });
    await second.waitForFunction(() => app.session.peekToken() !== undefined);
    expect(await burst(second, 20)).toMatchObject({ ok: 20, failed: 0 });
    expect(server.counters).toMatchObject({ refreshes: 1, refreshesRejected: 0, logins: 0 });
  }, 60_000);

  it('a full localStorage (quota) degrades the tab to memory with a warning and keeps it working', async () => {
    const tab = await open({ prefix: 'quota' });
    await fillLocalStorage(tab);
    await answerWith(tab, MEMBER);
    expect(await burst(tab, 5)).toMatchObject({ ok: 5, failed: 0 });
    expect(await tab.evaluate(() => [app.store.persistence, app.state.logs.some((l) => l.includes('memory'))])).toEqual(
      ['memory', true],
    );
    expect(server.counters.logins).toBe(1);
  }, 60_000);

  it('a full localStorage still serves the persisted tokens after a reload, and a logout still removes them from disk', async () => {
    const [tab] = (await tabs(1, { prefix: 'full' })) as [Tab];
    // Another script of the origin fills localStorage to the last byte after our login.
    await fillLocalStorage(tab);
    server.resetCounters();
    await tab.reload();
    await tab.waitForFunction(() => 'app' in window);
    // Writes are refused, reads are not: the tokens on disk are used, no login.
    expect(await burst(tab, 5)).toMatchObject({ ok: 5, failed: 0 });
    expect(await asked(tab)).toBe(0);
    expect(server.counters.logins).toBe(0);
    await tab.evaluate(() => app.session.logout());
    // Removing needs no quota: the logout leaves nothing a reload (or another tab) could bring back.
    expect(await tab.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('full:')))).toEqual([]);
    await tab.reload();
    await tab.waitForFunction(() => 'app' in window);
    const sentBefore = api.seen.length;
    expect(await burst(tab, 2)).toMatchObject({
      ok: 0,
      failed: 2,
      errors: ['CREDENTIALS_REQUIRED', 'CREDENTIALS_REQUIRED'],
    });
    expect(api.seen.slice(sentBefore).filter((r) => r.headers.authorization !== undefined)).toEqual([]);
  }, 60_000);

  it('a page with <base href> to another origin, and a cross-origin fetch, never carry the token', async () => {
    await tabs(1);
    const tab = await openTab(`${site.url}/based?${new URLSearchParams({ api: api.url })}`);
    expect(await tab.evaluate(() => document.baseURI)).toBe(`${third.url}/based/`);
    const statuses = await tab.evaluate(async (thirdUrl) => {
      const own = await app.authFetch(`${app.api}/api/echo`);
      const relative = await app.authFetch('relative-under-base');
      const absolute = await app.authFetch(`${thirdUrl}/elsewhere`);
      return [own.status, relative.status, absolute.status];
    }, third.url);
    expect(statuses).toEqual([200, 200, 200]);
    expect(api.seen.at(-1)?.headers.authorization).toMatch(/^Bearer /);
    expect(third.seen.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ['GET', '/based/relative-under-base', undefined],
      ['GET', '/elsewhere', undefined],
    ]);
  }, 60_000);
});
