import { afterEach, expect, it, vi } from 'vitest';
import type { Logger } from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';

let server: OpenLoyaltyServer | undefined;
const emitWarning = process.emitWarning;
afterEach(async () => {
  process.emitWarning = emitWarning;
  await server?.close();
});

it('reports the deprecation through the session logger, once, where there is no process.emitWarning', async () => {
  server = await createOpenLoyaltyServer({
    stores: { default: [{ username: 'jane@example.com', password: 'pw-123456' }] },
  });
  // A runtime without Node's process warnings (browser, edge).
  (process as { emitWarning?: unknown }).emitWarning = undefined;
  vi.resetModules();
  const { createAuthSession } = await import('@auth/core');
  const { openLoyaltyMember } = await import('@auth/openloyalty-member');
  const warned: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (m) => warned.push(m) };
  for (let i = 0; i < 3; i += 1) {
    const session = createAuthSession(
      openLoyaltyMember({
        baseUrl: server.url,
        storeCode: 'default',
        username: 'jane@example.com',
        password: 'pw-123456',
      }),
      { logger },
    );
    await session.login();
    session.close();
  }
  expect(warned.filter((m) => m.includes('deprecated'))).toHaveLength(1);
  expect(server.counters.logins).toBe(3);
});
