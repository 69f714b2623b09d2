// Cloudflare Workers semantics in workerd itself: one session created at module scope and shared by
// the concurrent requests of the isolate, the way people write Workers.
import { createOpenLoyaltyServer, type OpenLoyaltyServer } from '@auth/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { bundle, startWorkerd, type Workerd } from './runtimes.js';

const running: { ol: OpenLoyaltyServer; worker: Workerd }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.worker.close();
    await r.ol.close();
  }
});

async function start(): Promise<{ ol: OpenLoyaltyServer; worker: Workerd }> {
  const ol = await createOpenLoyaltyServer();
  const code = await bundle('worker-shared.mjs', {
    platform: 'browser',
    conditions: ['workerd', 'worker'],
    define: { SHARED_CONFIG: JSON.stringify({ url: ol.url }) },
  });
  const worker = await startWorkerd(code);
  const r = { ol, worker };
  running.push(r);
  return r;
}

const call = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(60_000) }).then(async (r) => `${r.status} ${await r.text()}`);

describe('a module-scope session in workerd', () => {
  it('50 concurrent requests of one isolate cause one login', async () => {
    const { ol, worker } = await start();
    const answers = await Promise.all(Array.from({ length: 50 }, () => call(worker.url)));
    expect(answers.filter((a) => a !== '200 200')).toEqual([]);
    expect(ol.counters.logins).toBe(1);
    expect(ol.counters.apiRejected).toBe(0);
  });

  it('a request that started the login and then ended does not fail or hang the others, nor later requests', async () => {
    const { ol, worker } = await start();
    // the login is held back by the server long enough for the first request to give up
    ol.faults.add({ endpoint: 'login', fault: { kind: 'delay', ms: 1_500 }, times: 1 });
    const first = call(`${worker.url}/impatient`);
    while (ol.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
    // these join the login the first request started, in its request context
    const others = Array.from({ length: 10 }, () => call(worker.url));
    // the first request answers after 100 ms; workerd then cancels the I/O it left pending
    expect(await first).toBe('503 gave up');
    expect(await Promise.all(others)).toEqual(Array.from({ length: 10 }, () => '200 200'));
    // the session is not stuck on the abandoned login either
    expect(await call(worker.url)).toBe('200 200');
    // the abandoned login, then one in the context of a request that was still there
    expect(ol.counters.logins).toBeLessThanOrEqual(2);
    expect(ol.counters.apiRejected).toBe(0);
  });
});
