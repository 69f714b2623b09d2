import { createOpenLoyaltyServer } from '@auth/testing';
import { axiosAuthRefresh, badgateway, ourSession, type Account, type ClientFactory } from './clients.js';
import { table } from './measure.js';
import axios from 'axios';
import { report } from './targets.js';
import { authAgent } from './transport.js';

const CALLERS = 60;
const LIMIT = { max: 20, windowMs: 2_000 };

interface Row {
  client: string;
  authCalls: number;
  logins: number;
  rateLimited: number;
  maxInWindow: number;
  failed: number;
  neverSettled: number;
  wallMs: number;
}

/** Runs `callers` forced logins at once against a fresh server limited to 20 auth calls per 2 s. */
async function burst(name: string, start: (account: Account) => Promise<boolean>[], timeoutMs = 20_000): Promise<Row> {
  const server = await createOpenLoyaltyServer({ rateLimit: { ...LIMIT } });
  const account = { baseUrl: server.url, username: 'admin', password: 'password' };
  try {
    let ok = 0;
    let failed = 0;
    const t0 = performance.now();
    const all = start(account).map((p) =>
      p.then(
        (good) => void (good ? (ok += 1) : (failed += 1)),
        () => void (failed += 1),
      ),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(all), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    const c = server.counters;
    return {
      client: name,
      authCalls: c.authCalls,
      logins: c.logins,
      rateLimited: c.rateLimited,
      maxInWindow: c.maxAuthCallsInWindow,
      failed,
      neverSettled: CALLERS - ok - failed,
      wallMs: performance.now() - t0,
    };
  } finally {
    await server.close();
  }
}

/** Each caller is a fresh client without tokens: its first request makes it log in. */
const viaFirstRequest = (factory: ClientFactory) => (account: Account) =>
  Array.from({ length: CALLERS }, () => factory(account, undefined).get('/api/default/member'));

/** Section 3: rate-limit fidelity. */
export async function benchRateLimit(): Promise<string> {
  const rows: Row[] = [];
  rows.push(
    await burst('@auth/core sessions (openLoyaltyAdmin, limit declared as 20 per 2 s): session.login()', (account) =>
      Array.from({ length: CALLERS }, () => {
        const session = ourSession(account, undefined, { rateLimit: LIMIT });
        return session.login().then(
          () => true,
          () => false,
        );
      }),
    ),
  );
  rows.push(
    await burst('axios + axios-auth-refresh (refresh hook logs in): first request', viaFirstRequest(axiosAuthRefresh)),
  );
  const warn = console.warn;
  console.warn = () => {};
  try {
    rows.push(
      await burst(
        '@badgateway/oauth2-client OAuth2Fetch (getNewToken logs in): first request',
        viaFirstRequest(badgateway),
      ),
    );
  } finally {
    console.warn = warn;
  }
  rows.push(
    await burst("axios-jwt (login is the app's: README's `axios.post` + `setAuthTokens`)", (account) => {
      const auth = axios.create({ baseURL: account.baseUrl, httpAgent: authAgent });
      return Array.from({ length: CALLERS }, () =>
        auth
          .post('/api/admin/login_check', { username: account.username, password: account.password })
          .then(() => true),
      );
    }),
  );
  const ours = rows[0]!;
  report({
    target: `never more auth calls than the limit (${LIMIT.max}) in any window`,
    measured: `${ours.maxInWindow} at most, ${ours.failed} of ${CALLERS} callers failed, ${ours.rateLimited} answered 429`,
    met: ours.maxInWindow <= LIMIT.max && ours.failed === 0 && ours.neverSettled === 0,
  });
  for (const r of rows)
    process.stderr.write(`  rate limit ${r.client}: max ${r.maxInWindow} in a window, ${r.failed} failed\n`);
  return [
    '## Rate-limit fidelity',
    '',
    `${CALLERS} callers of one admin account log in at once against a reference server that allows ${LIMIT.max} login + refresh calls per ${LIMIT.windowMs / 1000} s window (sliding; 429 with \`Retry-After\` beyond). ` +
      '"max in a window" is the largest number of auth calls the server saw in any window of that length.',
    '',
    table(
      [
        'client',
        'auth calls',
        'logins',
        '429s',
        'max auth calls in a window',
        'failed callers',
        'never settled',
        'wall ms',
      ],
      rows.map((r) => [
        r.client,
        String(r.authCalls),
        String(r.logins),
        String(r.rateLimited),
        `${r.maxInWindow} (limit ${LIMIT.max})`,
        String(r.failed),
        String(r.neverSettled),
        Math.round(r.wallMs),
      ]),
    ),
  ].join('\n');
}
