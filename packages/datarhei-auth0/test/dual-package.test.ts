// Issue 11, item 9: the strategy built from these sources under a session of another copy of
// @auth/core (its CommonJS build): the errors that session's `ctx.http` throws are that copy's, and
// the strategy still recognises them.
import { createDatarheiServer, type DatarheiServer } from '@auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datarheiAuth0 } from '../src/index.js';
import { loadCjsCore } from '../../core/test/dual-copy.js';
import { API, CLIENT_ID, CLIENT_SECRET, startIdp, type Idp } from './idp.js';

let cjs: ReturnType<typeof loadCjsCore>;
let idp: Idp;
let core: DatarheiServer;
beforeAll(async () => {
  cjs = loadCjsCore();
  idp = await startIdp();
  core = await createDatarheiServer({
    failedLoginDelayMs: 5,
    auth0Tenants: [{ issuer: idp.issuer, users: [CLIENT_ID], audience: API }],
  });
}, 300_000);
afterAll(async () => {
  await core?.close();
  await idp?.close();
});

describe('datarheiAuth0 under a session of another copy of @auth/core (issue 11, item 9)', () => {
  it('Core refusing the cached Auth0 token (that copy’s CREDENTIALS_REJECTED): one retry with a fresh token', async () => {
    const strategy = datarheiAuth0({
      baseUrl: core.url,
      clientCredentials: {
        issuer: idp.issuer,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        resource: API,
        allowInsecureRequests: true,
      },
    });
    const session = cjs.createAuthSession(strategy, { retry: { retries: 0 } });
    try {
      await session.login();
      core.faults.add({
        endpoint: 'login',
        fault: {
          kind: 'status',
          status: 401,
          body: { code: 401, message: 'Unauthorized', details: ['Invalid authorization credentials: invalid token'] },
        },
      });
      await session.login();
      expect(idp.tokenRequests).toBe(2);
      expect(core.counters).toMatchObject({ faults: 1, auth0Logins: 2 });
    } finally {
      session.close();
    }
  });
});
