import { describe, expect, it } from 'vitest';
import { completeTokenSet, readJwtTimes, renewAt } from '@auth/core';
import { jwt } from './acme-server.js';

describe('readJwtTimes', () => {
  it('moves exp/iat onto the local clock, so a client with a skewed clock still refreshes on time', () => {
    const serverNow = 1_700_000_000;
    const token = jwt({ iat: serverNow, exp: serverNow + 600 });
    const localReceivedAt = serverNow * 1000 + 3_600_000; // local clock one hour ahead
    expect(readJwtTimes(token, localReceivedAt)).toEqual({
      issuedAt: localReceivedAt,
      expiresAt: localReceivedAt + 600_000,
    });
  });

  it('uses absolute exp when there is no iat or no receive time', () => {
    expect(readJwtTimes(jwt({ exp: 2_000_000_000 }), 5)).toEqual({ expiresAt: 2_000_000_000_000 });
    expect(readJwtTimes(jwt({ exp: 2_000_000_000, iat: 1_999_999_000 }))).toEqual({
      expiresAt: 2_000_000_000_000,
      issuedAt: 1_999_999_000_000,
    });
  });

  it("reads datarhei's exi (lifetime in seconds)", () => {
    expect(readJwtTimes(jwt({ exi: 600 }), 1_000)).toEqual({ issuedAt: 1_000, expiresAt: 601_000 });
  });

  it('returns nothing for opaque tokens, JWTs without exp and garbage claims', () => {
    expect(readJwtTimes('def50200a2e8c9a2')).toEqual({});
    expect(readJwtTimes(jwt({ sub: 'x' }))).toEqual({});
    expect(readJwtTimes(jwt({ exp: 'tomorrow' }))).toEqual({});
    expect(readJwtTimes('a.b.c')).toEqual({});
    expect(readJwtTimes(`${jwt({ exp: 2_000_000_000 })}.extra.parts`)).toEqual({}); // JWE compact (5 parts)
    const [head, , sig] = jwt({}).split('.');
    expect(readJwtTimes(`${head}.${Buffer.from('[1,2]').toString('base64url')}.${sig}`)).toEqual({}); // not an object
    expect(readJwtTimes(`${head}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${sig}`)).toEqual({}); // not UTF-8
    expect(readJwtTimes(`${head}..${sig}`)).toEqual({});
  });

  it('decodes base64url payloads of any length with non-ASCII claims', () => {
    // Claims whose encoding uses the URL alphabet (- and _) and needs 0, 1 or 2 padding characters.
    for (const name of ['ü', 'üb', 'übe', '?>?>?>', '~~~']) {
      const token = jwt({ name, exp: 2_000_000_000 });
      expect(readJwtTimes(token)).toEqual({ expiresAt: 2_000_000_000_000 });
    }
    expect(Buffer.from(JSON.stringify({ name: '?>?>?>' })).toString('base64url')).toMatch(/[-_]/);
  });
});

describe('renewAt', () => {
  it('refreshes a 10-minute token one minute early and a 24-hour token five minutes early', () => {
    expect(renewAt({ accessToken: 'x', issuedAt: 0, expiresAt: 600_000 })).toBe(540_000);
    expect(renewAt({ accessToken: 'x', issuedAt: 0, expiresAt: 86_400_000 })).toBe(86_400_000 - 300_000);
  });

  it('keeps at least the minimum skew and never renews a very short token the instant it arrives', () => {
    expect(renewAt({ accessToken: 'x', issuedAt: 0, expiresAt: 20_000 })).toBe(15_000);
    expect(renewAt({ accessToken: 'x', issuedAt: 0, expiresAt: 4_000 })).toBe(2_000);
  });

  it('never renews a token without expiry ahead of time', () => {
    expect(renewAt({ accessToken: 'x' })).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('completeTokenSet', () => {
  it('fills expiries from the access and refresh JWTs and keeps what the strategy gave', () => {
    const t = completeTokenSet(
      { accessToken: jwt({ iat: 100, exp: 700 }), refreshToken: jwt({ iat: 100, exp: 86_500 }) },
      10_000,
    );
    expect(t.expiresAt).toBe(610_000);
    expect(t.refreshExpiresAt).toBe(10_000 + 86_400_000);
    expect(completeTokenSet({ accessToken: 'opaque', expiresAt: 42 }, 1).expiresAt).toBe(42);
  });
});
