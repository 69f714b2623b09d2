// The store against real Storage-like objects and Node's own BroadcastChannel (two stores on one
// storage stand for two tabs), with sessions on the OpenLoyalty reference server. Web Locks and the
// browser's own storages are covered in Chromium (tabs.browser.test.ts).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthSession, type AuthSession, type Logger } from '@auth/core';
import { openLoyaltyMember } from '@auth/openloyalty-member';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import { browserTokenStore, type BrowserTokenStoreOptions, type StorageLike } from '../src/index.js';

const PASSWORD = 'n0t-in-any-storage';

class MapStorage implements StorageLike {
  readonly map = new Map<string, string>();
  failing: 'writes' | 'everything' | undefined;
  getItem(key: string): string | null {
    if (this.failing === 'everything') throw new DOMException('denied', 'SecurityError');
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    if (this.failing) throw new DOMException('quota', 'QuotaExceededError');
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string, f?: Record<string, unknown>) => void lines.push(`${m} ${JSON.stringify(f ?? {})}`);
  return { lines, debug() {}, info: push, warn: push, error: push };
}

let server: OpenLoyaltyServer;
const sessions: AuthSession[] = [];
const stores: { close(): void }[] = [];
let prefixCount = 0;

beforeAll(async () => {
  server = await createOpenLoyaltyServer({
    stores: { default: [{ username: 'member@example.com', password: PASSWORD }] },
    rateLimit: false,
  });
});
afterAll(() => server.close());
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
  for (const s of stores.splice(0)) s.close();
  server.resetCounters();
});

/** A "tab": its own store instance (own channel) on a shared storage, and a session on it. */
function tab(
  storage: StorageLike | 'memory',
  opts: Partial<BrowserTokenStoreOptions> & { prefix: string; asked?: { n: number } },
) {
  const { asked, ...storeOpts } = opts;
  const store = browserTokenStore({ storage, withoutLocks: 'tab', ...storeOpts });
  stores.push(store);
  const session = createAuthSession(
    openLoyaltyMember({
      baseUrl: server.url,
      storeCode: 'default',
      credentials: () => {
        if (asked) asked.n += 1;
        return { username: 'member@example.com', password: PASSWORD };
      },
    }),
    { store, storeKey: 'member' },
  );
  sessions.push(session);
  return { store, session };
}

const prefix = () => `t${++prefixCount}`;
/** Lets BroadcastChannel messages between the "tabs" arrive. */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('persistence', () => {
  it('persists a versioned entry under prefix:key that a later page load reads (no login)', async () => {
    const storage = new MapStorage();
    const p = prefix();
    const first = tab(storage, { prefix: p });
    const tokens = await first.session.getToken();
    expect(server.counters.logins).toBe(1);
    const raw = JSON.parse(storage.map.get(`${p}:member`)!) as Record<string, unknown>;
    expect(raw).toMatchObject({
      format: '@auth/browser-store',
      v: 1,
      generation: 1,
      tokens: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken },
    });
    expect(JSON.stringify([...storage.map.values()])).not.toContain(PASSWORD);

    first.session.close();
    first.store.close();
    const asked = { n: 0 };
    const reloaded = tab(storage, { prefix: p, asked });
    expect((await reloaded.session.getToken()).accessToken).toBe(tokens.accessToken);
    expect(server.counters.logins).toBe(1);
    expect(asked.n).toBe(0);
  });

  it.each([
    ['corrupted', '{"format":"@auth/browser-st'],
    ['foreign', '{"token":"someone else\'s"}'],
    ['other-version', '{"format":"@auth/browser-store","v":0,"generation":1,"tokens":{"accessToken":"old"}}'],
    ['invalid', '{"format":"@auth/browser-store","v":1,"generation":-1,"tokens":{"accessToken":""}}'],
  ])('ignores a %s value with one log line, then logs in', async (reason, value) => {
    const storage = new MapStorage();
    const p = prefix();
    storage.map.set(`${p}:member`, value);
    const logger = recordingLogger();
    const { session } = tab(storage, { prefix: p, logger });
    await session.getToken();
    await session.getToken();
    expect(server.counters.logins).toBe(1);
    expect(logger.lines.filter((l) => l.includes('ignored the stored value'))).toHaveLength(1);
    expect(logger.lines[0]).toContain(`(${reason})`);
    expect(logger.lines.join('\n')).not.toContain('someone else');
    expect(JSON.parse(storage.map.get(`${p}:member`)!)).toMatchObject({ format: '@auth/browser-store', v: 1 });
  });

  it('degrades to memory with a warning when the storage throws, and keeps serving the tokens', async () => {
    const storage = new MapStorage();
    const p = prefix();
    const logger = recordingLogger();
    const { store, session } = tab(storage, { prefix: p, logger });
    storage.failing = 'writes';
    const tokens = await session.getToken();
    expect(store.persistence).toBe('memory');
    expect(logger.lines.some((l) => l.includes("tokens are kept in this tab's memory"))).toBe(true);
    expect(logger.lines.join('\n')).not.toContain(tokens.accessToken);
    expect((await store.get('member'))?.tokens.accessToken).toBe(tokens.accessToken);
    storage.failing = 'everything';
    expect((await session.getToken()).accessToken).toBe(tokens.accessToken);
    expect(server.counters.logins).toBe(1);
  });

  it("keeps the refresh token out of the storage with refreshToken: 'memory', and hands it to live tabs", async () => {
    const storage = new MapStorage();
    const p = prefix();
    const a = tab(storage, { prefix: p, refreshToken: 'memory' });
    const b = tab(storage, { prefix: p, refreshToken: 'memory' });
    const tokens = await a.session.getToken();
    const raw = storage.map.get(`${p}:member`)!;
    expect(raw).toContain(tokens.accessToken);
    expect(raw).not.toContain(tokens.refreshToken!);
    expect(raw).not.toContain('refreshToken');
    await settle();
    expect((await b.store.get('member'))?.tokens.refreshToken).toBe(tokens.refreshToken);
    // A new tab (nothing in memory) gets the access token from the storage but no refresh token.
    const c = tab(storage, { prefix: p, refreshToken: 'memory' });
    const fresh = await c.store.get('member');
    expect(fresh?.tokens.accessToken).toBe(tokens.accessToken);
    expect(fresh?.tokens.refreshToken).toBeUndefined();
  });

  it('rejects unusable options with CONFIGURATION, and without Web Locks unless told to renew per tab', () => {
    expect(() => browserTokenStore({ storage: {} as StorageLike, withoutLocks: 'tab' })).toThrowError(
      expect.objectContaining({ code: 'CONFIGURATION' }) as Error,
    );
    expect(() => browserTokenStore({ prefix: '', withoutLocks: 'tab' })).toThrowError(
      expect.objectContaining({ code: 'CONFIGURATION' }) as Error,
    );
    // No lock manager (`locks: null`; Node 20 has no navigator.locks, Node 24 has one): the default
    // refuses with a typed error naming the way out.
    expect(() => browserTokenStore({ storage: 'memory', locks: null })).toThrowError(
      expect.objectContaining({
        code: 'CONFIGURATION',
        message: expect.stringContaining("withoutLocks: 'tab'") as string,
      }) as Error,
    );
    const store = browserTokenStore({ storage: 'memory', locks: null, withoutLocks: 'tab' });
    expect(store.locked).toBe(false);
    store.close();
  });
});

describe('propagation between tabs', () => {
  it('a refresh in one tab is adopted by the other at once (no auth call there); a logout empties both', async () => {
    const storage = new MapStorage();
    const p = prefix();
    const a = tab(storage, { prefix: p });
    const bAsked = { n: 0 };
    const b = tab(storage, { prefix: p, asked: bAsked });
    const first = await a.session.getToken();
    await settle();
    expect((await b.session.getToken()).accessToken).toBe(first.accessToken);
    const renewed = await a.session.refresh();
    await settle();
    expect(b.session.peekToken()?.accessToken).toBe(renewed.accessToken);
    expect(server.counters).toMatchObject({ logins: 1, refreshes: 1, refreshesRejected: 0 });

    const forgotten: string[] = [];
    b.session.on('logout', () => forgotten.push('logout'));
    await a.session.logout();
    await settle();
    expect(forgotten).toEqual(['logout']);
    expect(b.session.peekToken()).toBeUndefined();
    expect(storage.map.has(`${p}:member`)).toBe(false);
    // The other tab now needs a login: the app is asked, nothing was kept.
    await b.session.getToken();
    expect(bAsked.n).toBe(1);
    expect(server.counters.logins).toBe(2);
  });

  it('a tab that logs in after another logged out is adopted by the tab that logged out', async () => {
    const storage = new MapStorage();
    const p = prefix();
    const a = tab(storage, { prefix: p });
    await a.session.getToken();
    await a.session.refresh();
    await settle();
    await a.session.logout();
    await settle();
    // A tab opened after the logout logs in: its generations start again from 1.
    const c = tab(storage, { prefix: p });
    const again = await c.session.login();
    await settle();
    expect(a.session.peekToken()?.accessToken).toBe(again.accessToken);
    // Served as it is: no renewal in the tab that logged out (the new lineage's generation is lower than its own).
    expect((await a.session.getToken()).accessToken).toBe(again.accessToken);
    expect(server.counters).toMatchObject({ logins: 2, refreshes: 1 });
  });
});
