import { afterEach, expect, it } from 'vitest';
import { createAuthSession, memoryTokenStore, type StoredTokens, type TokenSet, type TokenStore } from '@auth/core';
import { startAcme, type Acme } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';

let acme: Acme | undefined;
afterEach(async () => {
  await acme?.close();
});

// A store that pushes changes (`subscribe`; the browser store's tabs, the memory store's sessions):
// sessions adopt another holder's renewal at once, forget tokens another holder logged out, and a
// renewal that waited for the store's lock does not renew again after adopting the pushed tokens.
it('sessions on a store with subscribe adopt renewals and logouts of the others at once', async () => {
  acme = await startAcme();
  const store = memoryTokenStore();
  const make = () =>
    createAuthSession(acmeStrategy({ baseUrl: acme!.url, username: 'alice', password: acme!.password }), {
      store,
      retry: { baseDelayMs: 5 },
    });
  const a = make();
  const b = make();
  await a.getToken();
  await b.getToken();
  const events: string[] = [];
  b.on('tokens', (e) => events.push(e.reason));
  b.on('logout', () => events.push('logout'));
  const rotated = await a.refresh();
  expect(b.peekToken()?.accessToken).toBe(rotated.accessToken);
  expect(events).toEqual(['store']);
  await a.logout();
  expect(b.peekToken()).toBeUndefined();
  expect(events).toEqual(['store', 'logout', 'logout']);
  expect(acme.counters).toMatchObject({ logins: 1, refreshes: 1 });
  b.close();
  await a.getToken();
  expect(events).toHaveLength(3); // closed: no longer listening
});

it('a renewal waiting on the lock adopts the tokens pushed meanwhile instead of renewing again', async () => {
  acme = await startAcme();
  const inner = memoryTokenStore();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  // Holds B's renewal at the lock until A's pushed tokens have arrived in B.
  const store: TokenStore = {
    ...inner,
    coordinate: async (key, renew) => (await gate, inner.coordinate!(key, renew)),
  } as TokenStore;
  const strategy = () => acmeStrategy({ baseUrl: acme!.url, username: 'alice', password: acme!.password });
  const a = createAuthSession(strategy(), { store: inner });
  const b = createAuthSession(strategy(), { store });
  const first = await a.getToken();
  await b.getToken();
  const waiting = b.tokenRejected(first.accessToken);
  const rotated = await a.refresh();
  release();
  expect((await waiting).accessToken).toBe(rotated.accessToken);
  expect(acme.counters).toMatchObject({ logins: 1, refreshes: 1, rejectedRefreshes: 0 });
});

it("a logout while another session renews on the store: that renewal's tokens are revoked and do not come back in either session", async () => {
  acme = await startAcme();
  const store = memoryTokenStore();
  const revoked: string[] = [];
  const make = () => {
    const base = acmeStrategy({ baseUrl: acme!.url, username: 'alice', password: acme!.password });
    return createAuthSession(
      { ...base, revoke: async (tokens: TokenSet) => void revoked.push(tokens.accessToken) },
      { store },
    );
  };
  const a = make();
  const b = make();
  await a.getToken();
  await b.getToken();
  acme.faults.add({ endpoint: 'refresh', fault: { kind: 'delay', ms: 150 } });
  const renewal = a.refresh();
  await b.logout();
  const renewed = await renewal;
  expect(revoked).toEqual([renewed.accessToken]);
  expect(await store.get('acme')).toBeUndefined();
  expect(await a.exportTokens()).toBeUndefined();
  expect(await b.exportTokens()).toBeUndefined();
  expect(acme.counters).toMatchObject({ logins: 1, refreshes: 1 });
});

it('the memory store tells subscribers of writes and deletes, not of deletes of nothing', async () => {
  const store = memoryTokenStore();
  const seen: (StoredTokens | undefined)[] = [];
  const off = store.subscribe!('k', (v) => seen.push(v));
  await store.set('k', { tokens: { accessToken: 'x' }, generation: 1 });
  await store.delete('k');
  await store.delete('k');
  off();
  await store.set('k', { tokens: { accessToken: 'y' }, generation: 2 });
  expect(seen).toEqual([{ tokens: { accessToken: 'x' }, generation: 1 }, undefined]);
});
