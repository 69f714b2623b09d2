// Issue 11, item 9: a session from another copy of @auth/core (its CommonJS build) under the adapter
// built from these sources: the adapter recognises that copy's errors by their brand.
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, sendJson, type RunningServer } from '@auth/testing';
import { attachAuth } from '../src/index.js';
import { loadCjsCore } from '../../core/test/dual-copy.js';

let cjs: ReturnType<typeof loadCjsCore>;
let server: RunningServer;
let logins = 0;
let release: () => void = () => {};
beforeAll(async () => {
  cjs = loadCjsCore();
  server = await listen(async (req, res) => {
    if (req.url === '/login') {
      logins += 1;
      // The login hangs until the test lets it go: callers wait for the token meanwhile.
      await new Promise<void>((resolve) => (release = resolve));
      return sendJson(res, 200, { token: 'opaque-token-1' });
    }
    sendJson(res, 200, { ok: true });
  });
}, 300_000);
afterAll(() => server.close());

describe('attachAuth with a session of another copy of @auth/core (issue 11, item 9)', () => {
  it('an abort while waiting for that session’s token is a cancellation, as axios.isCancel sees it', async () => {
    const session = cjs.createAuthSession({
      name: 'foreign',
      origins: [server.url],
      login: async ({ http }) => ({
        accessToken: (
          await http<{ token: string }>({ operation: 'login', url: `${server.url}/login`, json: { key: 'k-123456' } })
        ).body.token,
      }),
    });
    const api = axios.create({ baseURL: server.url });
    attachAuth(api, session);
    try {
      const controller = new AbortController();
      const pending = api.get('/api/data', { signal: controller.signal }).catch((e: unknown) => e);
      while (logins === 0) await new Promise((r) => setTimeout(r, 5));
      controller.abort();
      const error = (await pending) as { code?: string };
      expect(error.code).toBe('ABORTED');
      expect(axios.isCancel(error)).toBe(true);
    } finally {
      release();
      session.close();
    }
  });
});
