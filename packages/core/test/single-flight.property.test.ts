import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAuthSession, RefreshRejectedError, ServerError, type Strategy, type TokenSet } from '@auth/core';

type Command =
  { k: 'get' } | { k: 'reject-latest' } | { k: 'reject-first' } | { k: 'refresh' } | { k: 'tick'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ k: 'get' as const }) },
  { weight: 2, arbitrary: fc.constant({ k: 'reject-latest' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'reject-first' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'refresh' as const }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 15 }).map((ms) => ({ k: 'tick' as const, ms })) },
);

const serialOf = (t: TokenSet) => Number(t.accessToken.slice(1));

describe('single-flight under random interleavings (fast-check)', () => {
  it('at most one renewal per expired or rejected token, every caller settles, nobody gets a token older than one already reported rejected', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(command, { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
        async (s, commands, refreshDeadPlan, transientPlan) => {
          let now = 1_000;
          let serial = 0;
          let inFlight = 0;
          let maxInFlight = 0;
          let refreshCalls = 0;
          let authCalls = 0;
          // Some auth calls fail transiently (a 5xx after the retries): the token they were renewing stays rejected.
          const transient = () => transientPlan[authCalls++ % transientPlan.length] === 0;
          let renewing: number | undefined;
          const rejected = new Set<number>();
          let maxRejected = 0;
          const renewedFrom = new Set<number>();
          /** Tokens a caller asked to renew explicitly with `session.refresh()`. */
          const forced = new Set<number>();
          const problems: string[] = [];
          let current: TokenSet | undefined;

          const mint = (): TokenSet => {
            serial += 1;
            if (renewing !== undefined) renewedFrom.add(renewing);
            renewing = undefined;
            current = { accessToken: `t${serial}`, refreshToken: `r${serial}`, expiresAt: now + 10, issuedAt: now };
            return current;
          };
          const enter = () => {
            inFlight += 1;
            maxInFlight = Math.max(maxInFlight, inFlight);
          };
          const strategy: Strategy = {
            name: 'prop',
            origins: [],
            async login() {
              enter();
              await s.schedule(Promise.resolve(), 'login');
              inFlight -= 1;
              if (transient()) throw new ServerError();
              return mint();
            },
            async refresh(tokens) {
              enter();
              const from = serialOf(tokens);
              if (!(now >= tokens.expiresAt! || rejected.has(from) || forced.has(from)))
                problems.push(`refresh of t${from} that was neither expired nor rejected`);
              if (renewedFrom.has(from)) problems.push(`second renewal of t${from}`);
              renewing = from;
              const dead = refreshDeadPlan[refreshCalls++ % refreshDeadPlan.length];
              await s.schedule(Promise.resolve(), 'refresh');
              inFlight -= 1;
              if (dead) throw new RefreshRejectedError();
              if (transient()) throw new ServerError();
              return mint();
            },
          };
          const session = createAuthSession(strategy, {
            now: () => now,
            refreshAhead: { ratio: 0, minMs: 0, maxMs: 0 },
            retry: { retries: 0 },
          });

          let first: TokenSet | undefined;
          let latest: TokenSet | undefined;
          const receive = (floor: number, label: string) => (t: TokenSet) => {
            if (serialOf(t) <= floor)
              problems.push(`${label} got t${serialOf(t)} after t${floor} was reported rejected`);
            first ??= t;
            latest = t;
          };
          const settled: boolean[] = [];
          const run = (c: Command, i: number): Promise<unknown> => {
            settled[i] = false;
            const done = () => {
              settled[i] = true;
            };
            const floor = maxRejected;
            switch (c.k) {
              case 'tick':
                now += c.ms;
                done();
                return Promise.resolve();
              case 'refresh':
                if (current) forced.add(serialOf(current));
                return session
                  .refresh()
                  .then(receive(floor, `refresh #${i}`))
                  .finally(done);
              case 'get':
                return session
                  .getToken()
                  .then(receive(floor, `get #${i}`))
                  .finally(done);
              case 'reject-latest':
              case 'reject-first': {
                const t = c.k === 'reject-latest' ? latest : first;
                if (!t)
                  return session
                    .getToken()
                    .then(receive(floor, `get #${i}`))
                    .finally(done);
                rejected.add(serialOf(t));
                // A report of a token that was already replaced does not raise the floor for others.
                if (t.accessToken === current?.accessToken) maxRejected = Math.max(maxRejected, serialOf(t));
                return session
                  .tokenRejected(t.accessToken)
                  .then(receive(Math.max(floor, serialOf(t)), `report #${i}`))
                  .finally(done);
              }
            }
          };
          // Callers may fail (transient auth failures): that is settling too; `settled` records it.
          const all = commands.map((c, i) =>
            s
              .schedule(Promise.resolve(), `start ${c.k}`)
              .then(() => run(c, i))
              .catch(() => undefined),
          );
          // Strategy calls are scheduled a few microtasks after the task that causes them: drain the
          // macrotask queue between rounds so that no scheduled task is left unreleased.
          do {
            await s.waitAll();
            await new Promise((r) => setTimeout(r, 0));
          } while (s.count() > 0);
          await Promise.allSettled(all);
          expect(problems).toEqual([]);
          expect(maxInFlight).toBeLessThanOrEqual(1);
          expect(settled.every(Boolean)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
