// One tab of the browser demo: a small OpenLoyalty member app built from the packages' dist (core,
// fetch adapter, member strategy, browser store), bundled by esbuild and served in same-origin
// frames. It shows what it does (renewals, adoptions, requests) and exposes `demoTab` for the
// dashboard around it. Tokens and the password never reach the page's text: a token is shown as a
// short SHA-256 fingerprint.
import { createAuthSession, isAuthError, type Credentials, type FetchLike, type TokenSet } from '@auth/core';
import { createAuthFetch } from '@auth/fetch-adapter';
import { openLoyaltyMember } from '@auth/openloyalty-member';
import { browserTokenStore } from '@auth/browser-store';

/** What the dashboard reads from a tab. */
export interface TabStats {
  tab: number;
  /** Changes with every page load (a reload starts the counters again). */
  loadId: string;
  signedIn: boolean;
  /** First 8 hex digits of the access token's SHA-256, or '' without one. */
  fingerprint: string;
  /** Refreshes this tab made (it held the renewal lock and called the server). */
  renewed: number;
  /** Logins this tab made. */
  logins: number;
  /** Times this tab took a fresh token another tab had obtained (no auth call of its own). */
  adopted: number;
  ok: number;
  failed: number;
}

export interface DemoTab {
  stats(): TabStats;
  /** Sends `n` requests at once; resolves with how many were answered 200. */
  burst(n: number): Promise<{ ok: number; failed: number }>;
  /** Puts tokens (an expired access token) into this tab, and through the store into every tab. */
  importTokens(tokens: { accessToken: string; refreshToken: string }): Promise<void>;
  logout(): Promise<void>;
}

const params = new URLSearchParams(location.search);
const tabNumber = Number(params.get('tab') ?? '1');
const api = params.get('api') ?? '';
const heartbeatMs = Number(params.get('heartbeat') ?? '5000');
const MEMBER_PATH = '/api/echo';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const stats: TabStats = {
  tab: tabNumber,
  loadId: Math.random().toString(36).slice(2),
  signedIn: false,
  fingerprint: '',
  renewed: 0,
  logins: 0,
  adopted: 0,
  ok: 0,
  failed: 0,
};
document.title = `tab ${tabNumber}`;
$('name').textContent = `Tab ${tabNumber}`;

/** The last requests and events, newest first (never a header or a body); repeats are counted, not listed. */
const log: { line: string; times: number; at: string }[] = [];
function note(line: string): void {
  const at = new Date().toLocaleTimeString();
  if (log[0]?.line === line) Object.assign(log[0], { times: log[0].times + 1, at });
  else log.unshift({ line, times: 1, at });
  log.length = Math.min(log.length, 12);
  $('log').textContent = log.map((e) => `${e.at} ${e.line}${e.times > 1 ? ` ×${e.times}` : ''}`).join('\n');
}
const pathOf = (input: string | URL | Request) =>
  new URL(input instanceof Request ? input.url : String(input)).pathname;

// The login form: its values serve one login call and are dropped; nothing else keeps them.
let typed: Credentials | undefined;
function credentials(): Credentials {
  const given = typed;
  typed = undefined;
  if (!given) throw new Error('not logged in: use the form');
  return given;
}

// The strategy's own calls (login, refresh, revoke), logged as the tab's requests too.
const authCalls: FetchLike = async (input, init) => {
  const method = init?.method ?? 'GET';
  try {
    const res = await fetch(input, init);
    note(`${method} ${pathOf(input)} → ${res.status}`);
    return res;
  } catch (error) {
    note(`${method} ${pathOf(input)} → network error`);
    throw error;
  }
};

const store = browserTokenStore({ prefix: 'auth-demo' });
const session = createAuthSession(openLoyaltyMember({ baseUrl: api, storeCode: 'default', credentials }), {
  store,
  fetch: authCalls,
});
const authFetch = createAuthFetch(session);
session.on('refresh', () => void (stats.renewed += 1));
session.on('login', () => void (stats.logins += 1));
// 'store': tokens another tab wrote (its login or renewal, or an import); only fresh ones are adoptions.
session.on('tokens', (e) => {
  if (e.reason === 'store' && e.expiresAt !== undefined && e.expiresAt > Date.now()) {
    stats.adopted += 1;
    note("adopted another tab's token (no auth call)");
  } else if (e.reason === 'store')
    note(e.expiresAt === undefined ? 'another tab logged out' : 'another tab put in an expired access token');
  else if (e.reason === 'refresh') note('renewed the token for every tab');
  else if (e.reason === 'login') note('logged in for every tab');
  void render();
});

async function request(): Promise<boolean> {
  try {
    const res = await authFetch(`${api}${MEMBER_PATH}`);
    note(`GET ${MEMBER_PATH} → ${res.status}`);
    if (res.status === 200) stats.ok += 1;
    else stats.failed += 1;
    return res.status === 200;
  } catch (error) {
    note(`GET ${MEMBER_PATH} → ${isAuthError(error) ? error.code : 'error'}`);
    stats.failed += 1;
    return false;
  }
}

async function burst(n: number): Promise<{ ok: number; failed: number }> {
  const results = await Promise.all(Array.from({ length: n }, request));
  const ok = results.filter(Boolean).length;
  void render();
  return { ok, failed: n - ok };
}

async function fingerprint(tokens: TokenSet | undefined): Promise<string> {
  if (!tokens) return '';
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(tokens.accessToken)));
  return Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function render(): Promise<void> {
  const tokens = await session.exportTokens();
  stats.signedIn = tokens !== undefined;
  stats.fingerprint = await fingerprint(tokens);
  const left = tokens?.expiresAt === undefined ? undefined : Math.round((tokens.expiresAt - Date.now()) / 1000);
  $('status').textContent = !tokens
    ? 'signed out'
    : `token ${stats.fingerprint} · ${left === undefined ? '' : left > 0 ? `expires in ${left} s` : 'expired'}`;
  $('status').dataset.signedIn = String(stats.signedIn);
  $('renewed').textContent = String(stats.renewed);
  $('adopted').textContent = String(stats.adopted);
  $('logins').textContent = String(stats.logins);
  $('ok').textContent = String(stats.ok);
  $('failed').textContent = String(stats.failed);
  $('login').hidden = stats.signedIn;
}

$<HTMLFormElement>('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const password = $<HTMLInputElement>('password');
  typed = { username: $<HTMLInputElement>('username').value, password: password.value };
  password.value = '';
  session.login().then(
    () => render(),
    (error: unknown) => {
      typed = undefined;
      note(`login → ${isAuthError(error) ? error.code : 'error'}`);
    },
  );
});
$('send').addEventListener('click', () => void request().then(render));
$('burst').addEventListener('click', () => void burst(50));
$('reload').addEventListener('click', () => location.reload());
$('logout').addEventListener('click', () => void session.logout().then(render));

// A request now and then, so refresh ahead of expiry happens while you watch (staggered per tab).
if (heartbeatMs > 0) {
  setTimeout(() => setInterval(() => void (stats.signedIn && request()), heartbeatMs), (tabNumber * heartbeatMs) / 4);
}
setInterval(() => void render(), 500);

const demoTab: DemoTab = {
  stats: () => ({ ...stats }),
  burst,
  importTokens: (tokens) => session.importTokens(tokens).then(render),
  logout: () => session.logout().then(render),
};
await render();
(globalThis as { demoTab?: DemoTab }).demoTab = demoTab;
