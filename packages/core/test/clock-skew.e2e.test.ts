// Tokens that look expired the moment they arrive (issue #11, item 7): the server's clock is behind
// ours and the JWT has no `iat` to correct for it, or `exp` is before `iat`. The server accepts them,
// so they are used until rejected or a floor time passes, not renewed with a login per request.
import { afterEach, expect, it } from 'vitest';
import { createAuthSession, EXPIRED_ON_ARRIVAL_FLOOR_MS, type Logger } from '@auth/core';
import { startAcme, type Acme, type AcmeOptions } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';

let acme: Acme | undefined;
afterEach(async () => {
  await acme?.close();
  acme = undefined;
});

function capturingLogger() {
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (message) => void warnings.push(message), error() {} };
  return { logger, warnings };
}

async function sevenRequests(jwtTimes: AcmeOptions['jwtTimes']) {
  acme = await startAcme({ ttlSec: 300, jwtTimes });
  const { logger, warnings } = capturingLogger();
  const sess = createAuthSession(acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password }), {
    logger,
  });
  const statuses: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    const tokens = await sess.getToken();
    const res = await fetch(`${acme.url}/api/data`, { headers: sess.authorize(tokens) });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return { sess, statuses, warnings };
}

it('server clock 10 min behind, no iat: 7 requests answered 200 cost one login, and the skew is logged once', async () => {
  // The server's now is ours minus 600 s; its 300 s token "expired" 300 s before it arrived here.
  const { sess, statuses, warnings } = await sevenRequests((now, ttl) => ({ exp: now - 600 + ttl }));
  expect(statuses).toEqual(Array(7).fill(200));
  expect(acme!.counters).toMatchObject({ logins: 1, refreshes: 0 });
  expect(warnings.filter((w) => w.includes('already expired'))).toHaveLength(1);
  const tokens = await sess.exportTokens();
  expect(tokens!.expiresAt! - tokens!.issuedAt!).toBe(EXPIRED_ON_ARRIVAL_FLOOR_MS);
});

it('exp before iat: 7 requests answered 200 cost one login', async () => {
  const { statuses, warnings } = await sevenRequests((now) => ({ iat: now, exp: now - 10 }));
  expect(statuses).toEqual(Array(7).fill(200));
  expect(acme!.counters).toMatchObject({ logins: 1, refreshes: 0 });
  expect(warnings.filter((w) => w.includes('already expired'))).toHaveLength(1);
});

it('such a token is still renewed once the server rejects it', async () => {
  const { sess } = await sevenRequests((now, ttl) => ({ exp: now - 600 + ttl }));
  const old = await sess.getToken();
  acme!.revokeAccess();
  const res = await fetch(`${acme!.url}/api/data`, { headers: sess.authorize(old) });
  expect(sess.isTokenRejected({ status: res.status, headers: res.headers })).toBe(true);
  const next = await sess.tokenRejected(old.accessToken);
  expect(next.accessToken).not.toBe(old.accessToken);
  expect(acme!.counters).toMatchObject({ logins: 1, refreshes: 1 });
});
