import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAuthSession, OriginPolicy } from '@auth/core';
import { startAcme, type Acme } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';

let acme: Acme;
beforeAll(async () => {
  acme = await startAcme({ ttlSec: 600 });
});
afterAll(() => acme.close());

it('peekToken gives the cached token only while it needs no renewal, and never a rejected one', async () => {
  let now = Date.now();
  const session = createAuthSession(acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password }), {
    now: () => now,
  });
  expect(session.peekToken()).toBeUndefined();
  const first = await session.getToken();
  expect(session.peekToken()).toBe(first);
  now += 550_000; // inside the refresh-ahead window
  expect(session.peekToken()).toBeUndefined();
  now -= 550_000;
  const next = await session.tokenRejected(first.accessToken);
  expect(next.accessToken).not.toBe(first.accessToken);
  expect(session.peekToken()).toBe(next);
});

it('remembers decisions per URL string without mixing up lists of extra origins', () => {
  const policy = new OriginPolicy(['https://api.test'], ['https://api.test/auth']);
  const extra = ['https://files.test'];
  for (let i = 0; i < 2; i += 1) {
    expect(policy.mayAuthorize('https://api.test/x')).toBe(true);
    expect(policy.mayAuthorize('https://files.test/x')).toBe(false);
    expect(policy.mayAuthorize('https://files.test/x', extra)).toBe(true);
    expect(policy.mayAuthorize('https://files.test/x', ['https://other.test'])).toBe(false);
    expect(policy.mayAuthorize('https://api.test/auth/login', extra)).toBe(false);
    expect(policy.mayAuthorize('HTTPS://API.TEST:443/x')).toBe(true);
    expect(policy.mayAuthorize('https://api.test.evil.com/x')).toBe(false);
  }
  for (let i = 0; i < 3000; i += 1) policy.mayAuthorize(`https://api.test/items/${i}`);
  expect(policy.mayAuthorize('https://cdn.test/x')).toBe(false);
});

it('a cached decision follows a later change to the list of extra origins (an origin removed loses the token)', () => {
  const policy = new OriginPolicy(['https://api.test'], []);
  const extra = ['https://files.test'];
  expect(policy.mayAuthorize('https://files.test/x', extra)).toBe(true);
  extra.length = 0;
  expect(policy.mayAuthorize('https://files.test/x', extra)).toBe(false);
  extra.push('https://cdn.test');
  expect(policy.mayAuthorize('https://cdn.test/x', extra)).toBe(true);
  extra[0] = 'https://other.test';
  expect(policy.mayAuthorize('https://cdn.test/x', extra)).toBe(false);
});
