import { createAuthSession, type Strategy } from '@auth/core';
import { sideBySide, table } from './measure.js';

/**
 * The engine's hot path: obtaining a cached, valid token, against the cheapest possible baseline
 * (`await Promise.resolve(token)`).
 */
export async function benchCore(): Promise<string> {
  const token = { accessToken: 'x'.repeat(800), expiresAt: Date.now() + 3_600_000, issuedAt: Date.now() };
  const strategy: Strategy = { name: 'bench', origins: ['http://127.0.0.1'], login: async () => ({ ...token }) };
  const session = createAuthSession(strategy);
  await session.getToken();
  let sink = 0;
  const results = await sideBySide(
    [
      {
        name: 'baseline: await Promise.resolve(token)',
        async run(n) {
          for (let i = 0; i < n; i += 1) sink += (await Promise.resolve(token)).accessToken.length;
        },
      },
      {
        name: '@auth/core: await session.getToken()',
        async run(n) {
          for (let i = 0; i < n; i += 1) sink += (await session.getToken()).accessToken.length;
        },
      },
    ],
    { opsPerRound: 20_000, rounds: 41 },
  );
  if (sink === 0) throw new Error('unreachable');
  const base = results[0]!;
  return [
    '## Core: cached valid token',
    '',
    table(
      ['candidate', 'median ns/op', 'p99 ns/op (per round)', 'ops/s', 'ratio to baseline'],
      results.map((r) => [r.name, r.nsPerOp, r.p99NsPerOp, r.opsPerSec, `${(r.nsPerOp / base.nsPerOp).toFixed(2)}×`]),
    ),
  ].join('\n');
}
