import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import {
  axiosAuthRefresh,
  axiosJwt,
  badgateway,
  oursAxios,
  oursFetch,
  type Account,
  type ClientFactory,
  type Seed,
} from './clients.js';
import { table } from './measure.js';
import { storm } from './storm.js';
import { report } from './targets.js';

export type StormCase = 'expired' | 'revoked' | 'dead-refresh';

const CASES: { id: StormCase; label: string }[] = [
  { id: 'expired', label: 'access token expired (by `exp`)' },
  { id: 'revoked', label: 'access token revoked on the server' },
  { id: 'dead-refresh', label: 'expired access token and dead refresh token' },
];

export interface StormRow {
  case: StormCase;
  n: number;
  client: string;
  refreshCalls: number;
  loginCalls: number;
  rateLimited: number;
  failed: number;
  neverSettled: number;
  wallMs: number;
  maxAuthCallsInWindow: number;
}

const PATH = '/api/default/member';

/**
 * Sets up one storm: a fresh server at the real limit (20 per minute), a seeded token pair in the state of the case.
 */
async function prepare(which: StormCase): Promise<{ server: OpenLoyaltyServer; account: Account; seed: Seed }> {
  const server = await createOpenLoyaltyServer({ rateLimit: { max: 20, windowMs: 60_000 } });
  const account = { baseUrl: server.url, username: 'admin', password: 'password' };
  const issued = await server.issueTokens({
    username: 'admin',
    ...(which === 'revoked' ? {} : { accessTokenTtlSec: -10 }),
  });
  if (which === 'revoked') server.revokeAccessTokens('admin');
  if (which === 'dead-refresh') server.expireRefreshTokens('admin');
  return { server, account, seed: { accessToken: issued.token, refreshToken: issued.refresh_token } };
}

/** One storm of `n` concurrent requests through a fresh client of `factory`, bounded in time. */
export async function runStorm(
  which: StormCase,
  n: number,
  factory: ClientFactory,
  timeoutMs: number,
): Promise<StormRow> {
  const { server, account, seed } = await prepare(which);
  const client = factory(account, seed);
  try {
    server.resetCounters();
    const r = await storm(client, n, PATH, timeoutMs);
    const c = server.counters;
    return {
      case: which,
      n,
      client: client.name,
      refreshCalls: c.refreshes + c.refreshesRejected,
      loginCalls: c.logins + c.loginsRejected,
      rateLimited: c.rateLimited,
      failed: r.failed,
      neverSettled: r.neverSettled,
      wallMs: r.wallMs,
      maxAuthCallsInWindow: c.maxAuthCallsInWindow,
    };
  } finally {
    client.close();
    await server.close();
  }
}

export const stormClients = (): ClientFactory[] => [oursAxios, oursFetch, axiosAuthRefresh, axiosJwt, badgateway];

/** Section 2: refresh storms at 1,000 and 10,000 concurrent requests, three cases, every client. */
export async function benchStorms(sizes: number[] = [1_000, 10_000]): Promise<string> {
  const rows: StormRow[] = [];
  // @badgateway/oauth2-client reports a rejected refresh with console.warn; keep the report readable.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('[oauth2]')) return;
    warn(...args);
  };
  try {
    for (const n of sizes) {
      for (const c of CASES) {
        for (const factory of stormClients()) {
          const row = await runStorm(c.id, n, factory, n >= 10_000 ? 30_000 : 15_000);
          process.stderr.write(
            `  storm ${c.id} ×${n} ${row.client}: refresh ${row.refreshCalls}, login ${row.loginCalls}, failed ${row.failed}, never settled ${row.neverSettled}\n`,
          );
          rows.push(row);
        }
      }
    }
  } finally {
    console.warn = warn;
  }
  const big = Math.max(...sizes);
  for (const name of ['axios + @auth/axios-adapter', '@auth/fetch-adapter']) {
    const mine = rows.filter((r) => r.client === name && r.n === big);
    const refreshes = mine.map((r) => r.refreshCalls).join('/');
    const failures = mine.reduce((sum, r) => sum + r.failed + r.neverSettled, 0);
    report({
      target: `${name}: exactly one refresh and zero failures in every storm at ${big.toLocaleString('en-US')}`,
      measured: `refresh calls ${refreshes} (expired/revoked/dead refresh token), logins ${mine.map((r) => r.loginCalls).join('/')}, failed or never settled ${failures}`,
      met:
        mine.length === CASES.length &&
        mine.every((r) => r.refreshCalls === 1 && r.failed === 0 && r.neverSettled === 0),
    });
  }
  return [
    '## Refresh storms',
    '',
    `N requests fired at once through one client against a fresh reference OpenLoyalty server (GET ${PATH}, auth endpoints limited to 20 per 60 s as upstream). ` +
      'Counts are what the server saw; "failed" is a rejection or a non-2xx final answer; "never settled" is what was still pending when the bound (15 s at 1,000, 30 s at 10,000) ran out. ' +
      'Every peer gets the same refresh hook (refresh, and log in when the server rejects the refresh token).',
    '',
    table(
      [
        'case',
        'N',
        'client',
        'refresh calls',
        'login calls',
        '429s',
        'failed',
        'never settled',
        'wall ms',
        'max auth calls in a window',
      ],
      rows.map((r) => [
        CASES.find((c) => c.id === r.case)!.label,
        r.n.toLocaleString('en-US'),
        r.client,
        String(r.refreshCalls),
        String(r.loginCalls),
        String(r.rateLimited),
        String(r.failed),
        String(r.neverSettled),
        Math.round(r.wallMs),
        String(r.maxAuthCallsInWindow),
      ]),
    ),
  ].join('\n');
}
