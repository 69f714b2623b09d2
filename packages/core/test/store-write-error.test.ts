// Issue 11, item 5: a token store whose write fails with a message quoting the tokens (MongoDB's
// duplicate key error does) must not get them into a log line: the write path logs what the read
// path reports, the error's name and code, never its message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthSession, memoryTokenStore, type AuthEventName, type TokenStore } from '@auth/core';
import { startAcme, type Acme } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';
import { capturingLogger, dump, expectNoLeak } from './leaks.js';

/** The shape of the MongoDB driver's error for a unique index violation. */
class MongoServerError extends Error {
  override name = 'MongoServerError';
  readonly code = 11000;
  readonly errmsg: string;
  readonly keyValue: Record<string, unknown>;
  constructor(accessToken: string, refreshToken: string | undefined) {
    super(
      `E11000 duplicate key error collection: auth.tokens index: accessToken_1 dup key: { accessToken: "${accessToken}", refreshToken: "${refreshToken}" }`,
    );
    this.errmsg = this.message;
    this.keyValue = { accessToken, refreshToken };
  }
}

let acme: Acme;
beforeAll(async () => {
  acme = await startAcme();
});
afterAll(() => acme.close());

describe('a token store write that fails quoting the tokens (issue 11, item 5)', () => {
  it('logs only the error’s name and code, on login, refresh and import; the tokens are still served', async () => {
    const inner = memoryTokenStore();
    let failedWrites = 0;
    const store: TokenStore = {
      get: (key) => inner.get(key),
      delete: (key) => inner.delete(key),
      set: (_key, value) => {
        failedWrites += 1;
        return Promise.reject(new MongoServerError(value.tokens.accessToken, value.tokens.refreshToken));
      },
    };
    const { calls, logger } = capturingLogger();
    const events: unknown[] = [];
    const names: AuthEventName[] = ['login', 'refresh', 'tokens', 'failure', 'rate-limited', 'rejected', 'logout'];
    const on = Object.fromEntries(names.map((n) => [n, (e: unknown) => events.push({ n, e })]));
    const session = createAuthSession(acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password }), {
      store,
      logger,
      on,
    });
    try {
      const first = await session.getToken();
      const second = await session.refresh();
      const imported = {
        accessToken: `imported-${first.accessToken}`,
        refreshToken: `imported-${second.refreshToken}`,
      };
      await session.importTokens(imported);
      expect(await session.getToken()).toMatchObject(imported);
      expect(failedWrites).toBe(3);
      expect(acme.counters).toMatchObject({ logins: 1, refreshes: 1 });
      // The served tokens work: a failed write does not lose them.
      expect((await fetch(`${acme.url}/api/me`, { headers: session.authorize(second) })).status).toBe(200);

      const errors = calls.filter((c) => c.level === 'error');
      expect(errors).toHaveLength(3);
      for (const { args } of errors) expect(JSON.stringify(args)).toMatch(/MongoServerError.*11000/);
      const secrets = [
        first.accessToken,
        first.refreshToken!,
        second.accessToken,
        second.refreshToken!,
        imported.accessToken,
        imported.refreshToken,
      ];
      expectNoLeak(dump(calls), secrets, 'logger calls');
      expectNoLeak(dump(events), secrets, 'events');
      expect(dump(calls)).not.toContain('E11000');
    } finally {
      session.close();
    }
  });
});
