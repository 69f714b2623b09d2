import { createAuthSession, type AuthSession, type Logger } from '@auth/core';
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisTokenStore, TokenDecryptionError, type RedisTokenStore } from '../src/index.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { olAdmin } from './helpers/strategy.js';

let redis: TestRedis;
let raw: Redis;
let server: OpenLoyaltyServer;
const closers: (() => unknown)[] = [];
const key = new Uint8Array(32).map((_, i) => i + 1);
const otherKey = new Uint8Array(32).map((_, i) => 200 - i);

beforeAll(async () => {
  redis = await startRedis();
  raw = redis.client();
  server = await createOpenLoyaltyServer({ rateLimit: false });
});

afterAll(async () => {
  for (const close of closers) await close();
  await server.close();
  await redis.stop();
});

beforeEach(async () => {
  await raw.flushall();
  server.resetCounters();
});

function store(encryptionKey?: Uint8Array | CryptoKey, logger?: Logger): RedisTokenStore {
  const s = redisTokenStore({
    redis: redis.client(),
    key: 'enc',
    encryption: encryptionKey ? { key: encryptionKey } : undefined,
    logger,
  });
  closers.push(() => s.close());
  return s;
}

function session(s: RedisTokenStore, logger?: Logger): AuthSession {
  const a = createAuthSession(olAdmin(server.url), { store: s, logger });
  closers.push(() => a.close());
  return a;
}

function recorder(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, meta?: Record<string, unknown>) =>
    lines.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
  return {
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    text: () => lines.join('\n'),
  };
}

describe('encryption at rest (AES-GCM, WebCrypto)', () => {
  it('Redis holds neither token, and a second write of the same tokens looks different (random IV)', async () => {
    const s = store(key);
    const a = session(s);
    const t = await a.getToken();
    const storeKey = olAdmin(server.url).storeKey!;
    const data = await raw.hget(`enc:{${storeKey}}:tokens`, 'd');
    expect(data).toBeTruthy();
    expect(data).not.toContain(t.accessToken);
    expect(data).not.toContain(t.refreshToken!);
    expect(data).not.toContain(t.accessToken.split('.')[1]!);
    expect(data!.startsWith('gcm1:')).toBe(true);
    // The same tokens written again get a new IV, so a new ciphertext.
    await s.set(storeKey, { tokens: t, generation: 5 });
    const again = await raw.hget(`enc:{${storeKey}}:tokens`, 'd');
    expect(again).not.toBe(data);
    // And the fleet (same key) reads them back.
    expect((await store(key).get(storeKey))?.tokens.accessToken).toBe(t.accessToken);
  });

  it('accepts a CryptoKey', async () => {
    const cryptoKey = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    const s = store(cryptoKey);
    await s.set('k', { tokens: { accessToken: 'secret-access' }, generation: 1 });
    expect(await raw.hget('enc:{k}:tokens', 'd')).not.toContain('secret-access');
    expect((await s.get('k'))?.tokens.accessToken).toBe('secret-access');
  });

  it('a wrong key, or no key, is a typed CONFIGURATION error without secrets, and a session fails fast instead of looping', async () => {
    await store(key).set('k', {
      tokens: { accessToken: 'secret-access', refreshToken: 'secret-refresh' },
      generation: 1,
    });
    const wrong = await store(otherKey)
      .get('k')
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(TokenDecryptionError);
    expect(wrong).toMatchObject({ code: 'CONFIGURATION', transient: false });
    const none = await store()
      .get('k')
      .catch((e: unknown) => e);
    expect(none).toBeInstanceOf(TokenDecryptionError);
    for (const e of [wrong, none])
      expect(JSON.stringify(e) + String(e) + String((e as Error).stack)).not.toMatch(/secret-/);

    // A session with the wrong key: each getToken rejects, no auth call is made, nothing is overwritten.
    const storeKey = olAdmin(server.url).storeKey!;
    const good = session(store(key));
    const t = await good.getToken();
    const log = recorder();
    const bad = session(store(otherKey, log.logger), log.logger);
    server.resetCounters();
    for (let i = 0; i < 3; i += 1) await expect(bad.getToken()).rejects.toMatchObject({ code: 'CONFIGURATION' });
    expect(server.counters.authCalls).toBe(0);
    expect((await store(key).get(storeKey))?.tokens.accessToken).toBe(t.accessToken);
    expect(log.text()).not.toContain(t.accessToken);
  });

  it('a stored value that is not JSON is reported without quoting it, not even in the cause', async () => {
    await raw.hset('enc:{k}:tokens', 'g', '1', 'd', 'secret-refresh-token-stored-raw');
    const error = await store()
      .get('k')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenDecryptionError);
    const cause = (error as Error).cause;
    expect(String(error) + String(cause) + JSON.stringify(error)).not.toMatch(/secret-/);
  });

  it('rejects keys of the wrong size', () => {
    expect(() => redisTokenStore({ redis: redis.client(), encryption: { key: new Uint8Array(7) } })).toThrow(
      RangeError,
    );
  });
});
