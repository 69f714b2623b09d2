import { listen } from '@auth/testing';
import { axiosClients, fetchClients, oursFetchApiKey, type Account, type Client, type Seed } from './clients.js';
import { formatNumber, ratio, sideBySideLatency, table, winShare, type LatencyMeasured } from './measure.js';
import { report } from './targets.js';
import { noopAxiosAdapter, noopFetch } from './transport.js';

/** A JWT-shaped token valid for a day (nobody checks its signature here), ~ the size of OpenLoyalty's. */
export function fakeSeed(): Seed {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const body = b64({
    iat,
    exp: iat + 86_400,
    roles: ['ROLE_ADMIN'],
    username: 'admin',
    id: '00000000-0000-4000-8001-000000000001',
    jti: 'bench',
  });
  const token = `${b64({ alg: 'RS256', typ: 'JWT' })}.${body}.${'s'.repeat(342)}`;
  return { accessToken: token, refreshToken: 'r'.repeat(128) };
}

const account = (baseUrl: string): Account => ({ baseUrl, username: 'admin', password: 'password' });

function rows(results: LatencyMeasured[]): (string | number)[][] {
  const base = results[0]!;
  return results.map((r) => [
    r.name,
    formatNumber(r.p50Ns / 1000),
    formatNumber(r.p99Ns / 1000),
    formatNumber(r.nsPerOp / 1000),
    Math.round(r.opsPerSec),
    r === base ? '—' : signed(r.addedNs / 1000),
    ratio(r.p50Ns, base.p50Ns),
    `${r.pairedRatio.toFixed(2)}×`,
  ]);
}

const signed = (v: number) => `${v >= 0 ? '+' : '−'}${formatNumber(Math.abs(v))}`;
const percent = (v: number) => `${Math.round(v * 100)} %`;

const HEADERS = [
  'candidate',
  'median µs/request',
  'p99 µs/request',
  'mean µs/request (median round)',
  'requests/s (median round)',
  'added µs/request (paired rounds)',
  'ratio to raw (median request)',
  'ratio to raw (paired rounds)',
];
const METHOD =
  'The median and p99 are over single requests, each timed on its own (latency rounds). The round figures time whole rounds with no timer inside the loop (throughput rounds, which also count the garbage each candidate leaves and, on a busy machine, preemption); ' +
  "the paired figures compare each round with the raw client's round of the same rotation, next to it in time, and take the median over rounds (the targets are judged on this ratio: it is the one a busy machine disturbs least, and it includes the garbage collection that lands inside a round). " +
  'Both kinds of rounds alternate, rounds are short and many, and the candidates rotate their order every pair of rounds. ' +
  '"Lower than every peer" also states the share of rounds in which ours was the faster of the two.';

async function compare(clients: Client[], opsPerRound: number, rounds: number): Promise<LatencyMeasured[]> {
  for (const c of clients)
    if (!(await c.get('/api/echo'))) throw new Error(`${c.name}: a request failed during set-up`);
  return sideBySideLatency(
    clients.map((c) => ({
      name: c.name,
      once: () =>
        c.get('/api/echo').then((good) => {
          if (!good) throw new Error(`${c.name}: request failed`);
        }),
    })),
    { opsPerRound, rounds },
  );
}

/** Section 1a: per-request overhead in process (no-op transport: only the interceptor/wrapper cost). */
export async function benchOverheadInProcess(): Promise<string> {
  const seed = fakeSeed();
  const acct = account('http://127.0.0.1:9');
  const axiosResults = await compare(
    axiosClients.map((f) => f(acct, seed, { adapter: noopAxiosAdapter })),
    100,
    150,
  );
  const fetchResults = await compare(
    [...fetchClients, oursFetchApiKey].map((f) => f(acct, seed, { fetch: noopFetch })),
    100,
    150,
  );
  for (const [results, ours] of [
    [axiosResults, 'axios + @auth/axios-adapter'],
    [fetchResults, '@auth/fetch-adapter'],
    [fetchResults, '@auth/fetch-adapter (X-AUTH-TOKEN)'],
  ] as const) {
    const base = results[0]!;
    const mine = results.find((r) => r.name === ours)!;
    const peers = results.filter((r) => r !== base && !r.name.includes('@auth/'));
    const x = (r: LatencyMeasured) => r.pairedRatio;
    report({
      target: `${ours}: at most 1.10× ${base.name} in process (paired rounds)`,
      measured: `${x(mine).toFixed(2)}× (${signed(mine.addedNs / 1000)} µs/request; median request ${ratio(mine.p50Ns, base.p50Ns)})`,
      met: x(mine) <= 1.1,
    });
    report({
      target: `${ours}: lower overhead than every peer in process`,
      measured: `${x(mine).toFixed(2)}× vs ${peers.map((p) => `${p.name.replace(/^axios \+ /, '')} ${x(p).toFixed(2)}× (ours faster in ${percent(winShare(mine, p))} of rounds)`).join(', ')}`,
      met: peers.every((p) => x(mine) < x(p)),
    });
  }
  return [
    '## Per-request overhead, in process',
    '',
    "A no-op transport: an axios `adapter` and a base `fetch` that resolve the request's URL, as any transport must, and answer at once (fetch with a new `Response` over prebuilt bytes, whose body the caller reads). " +
      'Every candidate holds a valid token, so this is the cost of the interceptor or wrapper on every request. 150 latency and 150 throughput rounds of 100 requests per candidate. ' +
      METHOD,
    '',
    table(HEADERS, rows(axiosResults)),
    '',
    table(HEADERS, rows(fetchResults)),
  ].join('\n');
}

/**
 * Section 1b: per-request overhead over loopback against a fast local server (answers 200 `{}` without checking
 * anything).
 */
export async function benchOverheadLoopback(): Promise<string> {
  const server = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('{}');
    });
  });
  try {
    const seed = fakeSeed();
    const acct = account(server.url);
    const axiosResults = await compare(
      axiosClients.map((f) => f(acct, seed)),
      50,
      40,
    );
    const fetchResults = await compare(
      fetchClients.map((f) => f(acct, seed)),
      50,
      40,
    );
    return [
      '## Per-request overhead, over loopback',
      '',
      "One request at a time against a local server on 127.0.0.1 that answers 200 `{}` at once (keep-alive; axios over one `http.Agent`, fetch over Node's built-in fetch). " +
        '40 latency and 40 throughput rounds of 50 requests per candidate. ' +
        METHOD,
      '',
      table(HEADERS, rows(axiosResults)),
      '',
      table(HEADERS, rows(fetchResults)),
    ].join('\n');
  } finally {
    await server.close();
  }
}
