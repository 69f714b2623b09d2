import type { OpenLoyaltyEcho } from '@auth/testing';
import { createAuthFetch } from '../src/index.js';
import { describeStorms } from '../../axios-adapter/test/fixtures/storms.js';

describeStorms(
  'fetch refresh storms against the OpenLoyalty reference server (real global fetch)',
  (session, server) => {
    const authFetch = createAuthFetch(session);
    return async (i) => {
      const res = await authFetch(`${server.url}/api/echo?i=${i}`);
      const echo = (await res.json()) as OpenLoyaltyEcho;
      return res.status === 200 && echo.user.username === 'admin' && echo.query.i === String(i);
    };
  },
);
