// Workers semantics: the session is created at module scope, as people write Workers, and shared by
// every request of the isolate. `SHARED_CONFIG` is replaced at bundle time by the test (module scope
// sees no env). Each request makes one authenticated call and answers its status.
import { createAuthSession } from '@auth/core';
import { createAuthFetch } from '@auth/fetch-adapter';
import { openLoyaltyAdmin } from '@auth/openloyalty-admin';

/* global SHARED_CONFIG */
const config = SHARED_CONFIG;
const session = createAuthSession(openLoyaltyAdmin({ baseUrl: config.url, username: 'admin', password: 'password' }), { retry: { baseDelayMs: 5 } });
const authFetch = createAuthFetch(session);

export default {
  async fetch() {
    try {
      const res = await authFetch(`${config.url}/api/default/member`);
      await res.arrayBuffer();
      return new Response(String(res.status));
    } catch (e) {
      return new Response(`${e?.code ?? ''} ${e?.message ?? e}`, { status: 500 });
    }
  },
};
