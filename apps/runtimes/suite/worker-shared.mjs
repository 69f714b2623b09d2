// Workers semantics: the session is created at module scope, as people write Workers, and shared by
// every request of the isolate. `SHARED_CONFIG` is replaced at bundle time by the test (module scope
// sees no env). Each request makes one authenticated call and answers its status.
import { createAuthSession } from '@auth/core';
import { createAuthFetch } from '@auth/fetch-adapter';
import { openLoyaltyAdmin } from '@auth/openloyalty-admin';

/* global SHARED_CONFIG */
const config = SHARED_CONFIG;
const session = createAuthSession(
  openLoyaltyAdmin({
    baseUrl: config.url,
    username: 'admin',
    password: 'password',
    ...(config.rateLimit ? { rateLimit: config.rateLimit } : {}),
  }),
  { retry: { baseDelayMs: 5 } },
);
const authFetch = createAuthFetch(session);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  async fetch(request) {
    const impatient = new URL(request.url).pathname === '/impatient';
    try {
      const call = authFetch(`${config.url}/api/default/member`);
      // `/impatient` gives up after 100 ms and answers at once: the request ends while the login it
      // started is still in flight, which ends that request's I/O (workerd cancels what a finished
      // request left pending)
      const res = impatient ? await Promise.race([call, sleep(100)]) : await call;
      if (!res) return new Response('gave up', { status: 503 });
      await res.arrayBuffer();
      return new Response(String(res.status));
    } catch (e) {
      return new Response(`${e?.code ?? ''} ${e?.message ?? e}`, { status: 500 });
    }
  },
};
