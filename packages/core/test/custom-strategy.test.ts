import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAuthSession } from '@auth/core';
import { startAcme, type Acme } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';

let acme: Acme;
beforeAll(async () => {
  acme = await startAcme();
});
afterAll(() => acme.close());

it('a third party writes a working strategy for an imaginary API in under 30 lines', async () => {
  const source = readFileSync(new URL('./acme-strategy.ts', import.meta.url), 'utf8');
  const code = source.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//'));
  expect(code.length).toBeLessThan(30);

  const session = createAuthSession(acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password }));
  const { accessToken } = await session.getToken();
  const res = await fetch(`${acme.url}/api/me`, { headers: session.authorize({ accessToken }) });
  expect(res.status).toBe(200);
  expect(session.mayAuthorize(`${acme.url}/api/me`)).toBe(true);
  expect(session.mayAuthorize(`${acme.url}/auth/login`)).toBe(false);
  expect(session.mayAuthorize('http://127.0.0.1:1/api/me')).toBe(false);
  expect(session.mayAuthorize('https://evil.example/api')).toBe(false);
});
