import { describe, expect, it } from 'vitest';
import { slidingWindowLimiter } from '@auth/core';

describe('slidingWindowLimiter', () => {
  it('runs at most max calls per window, in the order they were scheduled, and a failed call returns its permit too', async () => {
    const limiter = slidingWindowLimiter({ key: 'unit', max: 2, windowMs: 150 });
    const started: { i: number; at: number }[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) =>
        limiter.schedule(async () => {
          started.push({ i, at: Date.now() });
          if (i === 1) throw new Error('boom');
          return i;
        }),
      ),
    );
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
      0,
      'rejected',
      2,
      3,
      4,
      5,
      6,
    ]);
    expect(started.map((s) => s.i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // A permit comes back one full window after its call finished: the 3rd call starts a window after the 1st.
    for (let k = 2; k < started.length; k += 1) expect(started[k]!.at - started[k - 2]!.at).toBeGreaterThanOrEqual(149);
  });

  it('holds every call back while paused', async () => {
    const limiter = slidingWindowLimiter({ key: 'unit-pause', max: 5, windowMs: 100 });
    limiter.pause(120);
    expect(limiter.pausedFor!()).toBeGreaterThan(0);
    const t0 = Date.now();
    await limiter.schedule(async () => undefined);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(119);
    expect(limiter.pausedFor!()).toBe(0);
  });

  it('rejects a limit without permits or window', () => {
    expect(() => slidingWindowLimiter({ key: 'bad', max: 0, windowMs: 100 })).toThrow(RangeError);
    expect(() => slidingWindowLimiter({ key: 'bad', max: 1, windowMs: 0 })).toThrow(RangeError);
  });
});
