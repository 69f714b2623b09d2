// Pauses after a server's 429 (issue #11, item 1): calls already queued in the limiter give up with
// RATE_LIMITED as soon as the pause outgrows what they wait out, timers never overflow, and a pause
// has a cap after which calls may try again.
import { afterEach, expect, it } from 'vitest';
import { createAuthSession, MAX_PAUSE_MS, sharedLimiter, slidingWindowLimiter } from '@auth/core';
import { startAcme, type Acme } from './acme-server.js';
import { acmeStrategy } from './acme-strategy.js';

let acme: Acme | undefined;
afterEach(async () => {
  await acme?.close();
  acme = undefined;
});

let keys = 0;
function sessionsOfOneAccount(server: Acme, n: number, rateLimit: { max: number; windowMs: number }, retry = {}) {
  const spec = { key: `pacing-${++keys}:${server.url}`, ...rateLimit };
  const strategy = acmeStrategy({ baseUrl: server.url, username: 'alice', password: server.password });
  return { spec, sessions: Array.from({ length: n }, () => createAuthSession(strategy, { rateLimit: spec, retry })) };
}

it('a call queued for a permit when a 429 asks for an hour rejects RATE_LIMITED when its turn comes, without being sent', async () => {
  acme = await startAcme();
  // One permit: the second session's login waits for it while the first one's is on the wire.
  const { sessions } = sessionsOfOneAccount(acme, 2, { max: 1, windowMs: 300 });
  acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } } });
  const [a, b] = sessions as [ReturnType<typeof createAuthSession>, ReturnType<typeof createAuthSession>];
  const first = a.getToken().catch((e: unknown) => e);
  const queued = b.getToken().catch((e: unknown) => e);
  expect(await first).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 3_600_000 });
  // Before the fix the queued login sat in the limiter's pause loop for the whole hour.
  const error = await queued;
  expect(error).toMatchObject({ code: 'RATE_LIMITED', strategy: 'acme', operation: 'login' });
  expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(3_000_000);
  expect(acme.counters.logins).toBe(0);
}, 10_000);

it('three sessions of one account: a caller waiting out a short pause rejects at once when the pause grows past maxRetryAfterMs', async () => {
  acme = await startAcme();
  const { spec, sessions } = sessionsOfOneAccount(acme, 3, { max: 10, windowMs: 1_000 }, { retries: 0 });
  const [a, b, c] = sessions as [
    ReturnType<typeof createAuthSession>,
    ReturnType<typeof createAuthSession>,
    ReturnType<typeof createAuthSession>,
  ];
  acme.faults.add({ endpoint: 'login', fault: { kind: 'status', status: 429, headers: { 'retry-after': '60' } } });
  await expect(a.getToken()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  // 60 s is within the 120 s default: these two wait it out in the limiter.
  const waiting = [b.getToken().catch((e: unknown) => e), c.getToken().catch((e: unknown) => e)];
  await new Promise((r) => setTimeout(r, 100));
  // Another call of the account is told to wait an hour: the waiters must not sit the minute out first.
  sharedLimiter(spec).pause(3_600_000);
  for (const error of await Promise.all(waiting))
    expect(error).toMatchObject({ code: 'RATE_LIMITED', operation: 'login' });
  expect(acme.counters.logins).toBe(0);
}, 10_000);

it("a Retry-After beyond setTimeout's range neither spins nor overflows: the pause is capped and a closed session settles its waiters", async () => {
  acme = await startAcme();
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    // This caller accepts any pause, so it waits; 4,000,000 s is 46 days, past 2^31 − 1 ms.
    const { spec, sessions } = sessionsOfOneAccount(
      acme,
      2,
      { max: 10, windowMs: 1_000 },
      { retries: 0, maxRetryAfterMs: Number.POSITIVE_INFINITY },
    );
    const [a, b] = sessions as [ReturnType<typeof createAuthSession>, ReturnType<typeof createAuthSession>];
    acme.faults.add({
      endpoint: 'login',
      fault: { kind: 'status', status: 429, headers: { 'retry-after': '4000000' } },
    });
    await expect(a.getToken()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(sharedLimiter(spec).pausedFor!()).toBeLessThanOrEqual(MAX_PAUSE_MS);
    expect(sharedLimiter(spec).pausedFor!()).toBeGreaterThan(MAX_PAUSE_MS - 60_000);
    const waiting = b.getToken().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    b.close();
    expect(await waiting).toMatchObject({ code: 'ABORTED' });
    expect(acme.counters.logins).toBe(0);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  } finally {
    process.off('warning', onWarning);
  }
}, 10_000);

it('an absurd Retry-After locks an account out for at most MAX_PAUSE_MS, not for 3,000 years', async () => {
  acme = await startAcme();
  const { spec, sessions } = sessionsOfOneAccount(acme, 1, { max: 10, windowMs: 1_000 }, { retries: 0 });
  acme.faults.add({
    endpoint: 'login',
    fault: { kind: 'status', status: 429, headers: { 'retry-after': '99999999999' } },
  });
  await expect(sessions[0]!.getToken()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  const later = createAuthSession(acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password }), {
    rateLimit: spec,
  });
  const error = await later.getToken().catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'RATE_LIMITED' });
  expect((error as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(MAX_PAUSE_MS);
  expect(acme.counters.logins).toBe(0);
});

it('slidingWindowLimiter: a call queued for a permit leaves at once when its signal fires or the pause outgrows maxPauseMs, and is never run', async () => {
  const limiter = slidingWindowLimiter({ key: 'signal-test', max: 1, windowMs: 60_000 });
  const ran: string[] = [];
  await limiter.schedule(async () => void ran.push('first')); // the only permit, back in 60 s
  const controller = new AbortController();
  const aborted = limiter
    .schedule(async () => void ran.push('aborted'), { signal: controller.signal })
    .catch((e: unknown) => e);
  const patient = limiter
    .schedule(async () => void ran.push('patient'), { maxPauseMs: 10_000 })
    .catch((e: unknown) => e);
  controller.abort();
  expect(await aborted).toMatchObject({ code: 'ABORTED' });
  limiter.pause(20_000);
  expect(await patient).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) as number });
  expect(ran).toEqual(['first']);
}, 5_000);

it("a session timeoutMs beyond setTimeout's range (Infinity: no deadline) does not time every auth call out after 1 ms", async () => {
  acme = await startAcme();
  const sess = createAuthSession(acmeStrategy({ baseUrl: acme.url, username: 'alice', password: acme.password }), {
    timeoutMs: Number.POSITIVE_INFINITY,
    retry: { retries: 0 },
  });
  // Before the fix setTimeout(Infinity) fired at once: TIMEOUT without an answer.
  await expect(sess.getToken()).resolves.toMatchObject({ accessToken: expect.any(String) as string });
  expect(acme.counters.logins).toBe(1);
  sess.close();
});
