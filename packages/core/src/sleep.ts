import { AbortedError, isAuthError } from './errors.js';

/** `setTimeout` fires after 1 ms for any delay above 2^31 − 1 ms (24.8 days): longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once `ms` have passed (any length: long delays are chained below `setTimeout`'s 24.8-day
 * limit; `Infinity` never fires; `NaN` or no delay fires at once). Returns what cancels it. `unref`
 * lets a Node process exit while only this timer is pending.
 *
 * @example
 * const cancel = after(30_000, () => controller.abort());
 */
export function after(ms: number, fn: () => void, opts: { unref?: boolean } = {}): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const end = Date.now() + Math.max(0, ms);
  const arm = () => {
    const left = end - Date.now();
    if (left <= 0 || Number.isNaN(left)) return fn();
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    if (opts.unref) (timer as { unref?: () => void }).unref?.();
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * Waits `ms` (any length, see {@link after}; an infinite one waits until `signal` fires). When
 * `signal` fires it rejects at once with {@link abortReason}.
 *
 * @example
 * await sleep(1_000, request.signal);
 */
export function sleep(ms: number, signal?: AbortSignal | null, opts: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      cancel();
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const cancel = after(
      ms,
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      opts,
    );
  });
}

/**
 * The typed error for a fired `signal`: its `reason` when that is already an `AuthError` (a closed
 * session aborts with one), else an `ABORTED` error with the reason as `cause`.
 *
 * @example
 * if (signal.aborted) throw abortReason(signal);
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return isAuthError(reason) ? reason : new AbortedError('the operation was aborted', { cause: reason });
}
