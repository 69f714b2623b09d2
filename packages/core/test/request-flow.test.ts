import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  absoluteUrl,
  createAuthSession,
  hidesManualRedirects,
  isAuthError,
  replayableBody,
  RequestFlow,
} from '@auth/core';
import type { AuthSession, RequestRun } from '@auth/core';
import { startAcme, type Acme } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';

// The adapters' shared request policy, driven the way an adapter drives it, against the acme
// reference API over real HTTP (global fetch).
let acme: Acme;
beforeAll(async () => {
  acme = await startAcme({ ttlSec: 600, authDelayMs: 0 });
});
afterAll(() => acme.close());

const sessionFor = (): AuthSession =>
  createAuthSession(acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password }));

/**
 * One request the way the fetch adapter sends it: the run's loop (token, limiter, send, verdicts until one is handed
 * back).
 */
function request(flow: RequestFlow, run: RequestRun, url: string): Promise<Response> {
  return run.perform(
    (tokens) => fetch(url, { headers: Object.fromEntries(run.use(tokens).pairs) }),
    (r) => void r.body?.cancel(),
  );
}

describe('RequestFlow', () => {
  it('claims only requests to the strategy’s origins (and extra ones), never its auth endpoints or opted-out ones', () => {
    const flow = new RequestFlow(sessionFor(), { origins: ['https://files.example.com'] });
    expect(flow.claims(`${acme.url}/api/x`)).toBe(true);
    expect(flow.claims('https://files.example.com/a')).toBe(true);
    expect(flow.claims(`${acme.url}/auth/login`)).toBe(false);
    expect(flow.claims('https://elsewhere.example.com/')).toBe(false);
    expect(flow.claims(undefined)).toBe(false);
    expect(flow.claims(`${acme.url}/api/x`, () => true)).toBe(false);
  });

  it('works out the headers once per token set and remembers which values it set', async () => {
    const session = sessionFor();
    const flow = new RequestFlow(session);
    const tokens = await session.getToken();
    const auth = flow.headers(tokens);
    expect(flow.headers(tokens)).toBe(auth);
    expect(auth.names).toEqual(['authorization']);
    expect(auth.custom).toBe(false);
    expect(flow.isApplied(`Bearer ${tokens.accessToken}`)).toBe(true);
    expect(flow.isApplied('Bearer someone-else')).toBe(false);
  });

  it('a rejected token: replayed exactly once with the renewed token, then the answer is handed back', async () => {
    const session = sessionFor();
    const flow = new RequestFlow(session);
    await session.getToken();
    acme.revokeAccess();
    const before = { ...acme.counters };
    const run = flow.start();
    const response = await request(flow, run, `${acme.url}/api/items`);
    expect(response.status).toBe(200);
    expect(run.replayed).toBe(true);
    expect(acme.counters.refreshes - before.refreshes).toBe(1);
    expect(acme.counters.apiCalls - before.apiCalls).toBe(2);
    // A second rejection of the same run is not replayed again.
    expect(run.verdict({ status: 401 }).kind).toBe('hand-back');
  });

  it('a body that cannot be sent again: the rejection is reported, the answer handed back', async () => {
    const session = sessionFor();
    const flow = new RequestFlow(session);
    const first = await session.getToken();
    acme.revokeAccess();
    const run = flow.start({ replayable: false });
    const response = await request(flow, run, `${acme.url}/api/items`);
    expect(response.status).toBe(401);
    const renewed = await session.getToken();
    expect(renewed.accessToken).not.toBe(first.accessToken);
  });

  it('a 429 is waited out (bounded) and sent again; a Retry-After beyond the timeout gives up at once', async () => {
    const session = sessionFor();
    const flow = new RequestFlow(session, { retryRateLimited: { retries: 1 } });
    acme.faults.add({
      endpoint: 'api',
      fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } },
      times: 2,
    });
    const run = flow.start();
    const response = await request(flow, run, `${acme.url}/api/items`);
    expect(response.status).toBe(429);
    expect(run.retries).toBe(1);
    const bounded = flow.start({ timeoutMs: 500, timedOut: (error, what) => new Error(`${error.timeoutMs}: ${what}`) });
    const verdict = bounded.verdict({ status: 429, headers: { get: () => '5' } });
    expect(verdict.kind).toBe('give-up');
    await expect(bounded.proceed(verdict)).rejects.toThrow('500: waiting out a Retry-After of 5000 ms');
    expect(new RequestFlow(session, { retryRateLimited: false }).start().verdict({ status: 429 }).kind).toBe(
      'hand-back',
    );
  });

  it('redirect chains: once a hop may not carry the token, no later hop does, and the answer is handed back', async () => {
    const session = sessionFor();
    const flow = new RequestFlow(session);
    const run = flow.start();
    run.use(await session.getToken());
    expect(run.hop(`${acme.url}/api/a`)).toBe(true);
    expect(run.hop('https://elsewhere.example.com/')).toBe(false);
    expect(run.hop(`${acme.url}/api/b`)).toBe(false);
    expect(run.verdict({ status: 401 }).kind).toBe('hand-back');
    // A hop out of sight counts as one that did not carry it; a new send starts a new chain.
    run.use(await session.getToken());
    expect(run.carrying).toBe(true);
    run.hop(undefined);
    expect(run.verdict({ status: 401 }).kind).toBe('hand-back');
    // A fetch Response the runtime reached through redirects says so itself.
    run.use(await session.getToken());
    expect(run.verdict({ status: 401, redirected: true }).kind).toBe('hand-back');
    run.use(await session.getToken());
    expect(run.verdict({ status: 401, redirected: false }).kind).toBe('replay');
    // One whose hops the host followed and reported is judged by those hops.
    const followed = flow.start();
    followed.use(await session.getToken());
    followed.hop(`${acme.url}/api/c`);
    expect(followed.verdict({ status: 401, redirected: true }).kind).toBe('replay');
    expect(flow.mayNeedVerdict({ status: 401, redirected: true })).toBe(false);
    expect(flow.mayNeedVerdict({ status: 401 })).toBe(true);
  });

  it('one deadline over the waits before a send: a slow login runs out of the timeout; an abort rejects with ABORTED', async () => {
    const session = sessionFor();
    const flow = new RequestFlow(session, { limiter: { maxConcurrent: 1 } });
    acme.faults.add({ endpoint: 'login', fault: { kind: 'delay', ms: 1_500 } });
    const run = flow.start({ timeoutMs: 300 });
    const error = await run.waitForToken().catch((e: unknown) => e);
    expect(isAuthError(error) && error.code).toBe('TIMEOUT');
    expect(String((error as Error).message)).toMatch(/300 ms ran out while waiting for a token/);

    await session.getToken();
    const ctl = new AbortController();
    let release!: () => void;
    const held = flow.start().send(() => new Promise<void>((r) => (release = r)));
    await vi.waitFor(() => expect(release).toBeTypeOf('function'), { timeout: 10_000 });
    const queued = flow.start({ signal: ctl.signal }).send(() => 'sent');
    ctl.abort();
    const aborted = await queued.catch((e: unknown) => e);
    expect(isAuthError(aborted) && aborted.code).toBe('ABORTED');
    release();
    await held;
  });

  it('perform: the waits before a send share one deadline (a token that took it all leaves none for the limiter)', async () => {
    const session = sessionFor(); // no token yet: the run waits for one
    // The clock jumps 6 s while the token is fetched (a slow login, without a slow test).
    let skew = 0;
    const realNow = Date.now.bind(Date);
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);
    const getToken = session.getToken.bind(session);
    session.getToken = async (opts) => {
      const tokens = await getToken(opts);
      skew += 6_000;
      return tokens;
    };
    try {
      const flow = new RequestFlow(session, { limiter: { maxConcurrent: 1 } });
      const run = flow.start({ timeoutMs: 5_000 });
      const api = acme.counters.apiCalls;
      const error = await request(flow, run, `${acme.url}/api/items`).catch((e: unknown) => e);
      expect(isAuthError(error) && error.code).toBe('TIMEOUT');
      expect(String((error as Error).message)).toMatch(/5000 ms ran out while waiting for the rate limiter/);
      expect(acme.counters.apiCalls).toBe(api);
    } finally {
      clock.mockRestore();
    }
  });

  it('a timeout beyond setTimeout’s limit (24.8 days) runs out when it says, not at the limit', async () => {
    const DAY = 86_400_000;
    const run = new RequestFlow(sessionFor()).start({ timeoutMs: 30 * DAY });
    vi.useFakeTimers();
    try {
      let settled: unknown;
      void run
        .within('waiting', (signal) => new Promise((_, reject) => signal!.addEventListener('abort', reject)))
        .catch((e: unknown) => (settled = e));
      await vi.advanceTimersByTimeAsync(25 * DAY);
      expect(settled).toBeUndefined();
      await vi.advanceTimersByTimeAsync(5 * DAY);
      expect(isAuthError(settled) && settled.code).toBe('TIMEOUT');
    } finally {
      vi.useRealTimers();
    }
  });

  it('never prints the token', async () => {
    const session = sessionFor();
    const run = new RequestFlow(session).start();
    const tokens = await session.getToken();
    run.use(tokens);
    expect(JSON.stringify(run)).not.toContain(tokens.accessToken);
  });

  it('perform judges an answer the host already has first: a rejected token is renewed once and the request sent again', async () => {
    const session = sessionFor();
    const flow = new RequestFlow(session);
    const tokens = await session.getToken();
    acme.revokeAccess();
    const run = flow.start();
    run.use(tokens);
    const first = await fetch(`${acme.url}/api/items`, { headers: Object.fromEntries(run.auth.pairs) });
    expect(first.status).toBe(401);
    const sent: string[] = [];
    const discarded: number[] = [];
    const send = (t: { accessToken: string }) => (
      sent.push(t.accessToken),
      fetch(`${acme.url}/api/items`, { headers: Object.fromEntries(run.use(t as never).pairs) })
    );
    const answer = await run.perform(send, (r) => discarded.push(r.status), first);
    expect(answer.status).toBe(200);
    expect(discarded).toEqual([401]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toBe(tokens.accessToken);
    expect(run.replayed).toBe(true);
    session.close();
  });

  it('replayableBody: anything but a stream; absoluteUrl and hidesManualRedirects outside a browser', async () => {
    const { Readable } = await import('node:stream');
    for (const body of [
      undefined,
      null,
      'a',
      new Uint8Array(1),
      new ArrayBuffer(1),
      new Blob(['a']),
      new FormData(),
      new URLSearchParams('a=1'),
      { a: 1 },
    ]) {
      expect(replayableBody(body)).toBe(true);
    }
    const generator = (async function* () {})();
    for (const body of [new ReadableStream(), Readable.from(['a']), generator])
      expect(replayableBody(body)).toBe(false);
    expect(absoluteUrl('https://api.example.com/a?b')).toBe('https://api.example.com/a?b');
    expect(absoluteUrl(new URL('https://api.example.com/a'))).toBe('https://api.example.com/a');
    // No document or location in Node: a relative URL has nothing to resolve against.
    expect(absoluteUrl('/a')).toBeUndefined();
    expect(absoluteUrl(42)).toBeUndefined();
    expect(hidesManualRedirects()).toBe(false);
  });
});
