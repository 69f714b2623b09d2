import type { Client } from './clients.js';

export interface StormResult {
  ok: number;
  failed: number;
  /** Requests neither resolved nor rejected when the time bound ran out. */
  neverSettled: number;
  wallMs: number;
}

/**
 * Fires `n` requests at once through `client` and waits for all of them, at most `timeoutMs`.
 * Counts are taken when the last request settles or when time runs out, whichever comes first.
 */
export async function storm(client: Client, n: number, path: string, timeoutMs: number): Promise<StormResult> {
  let ok = 0;
  let failed = 0;
  const t0 = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i += 1) {
    all.push(
      client.get(path).then(
        (good) => {
          if (good) ok += 1;
          else failed += 1;
        },
        () => {
          failed += 1;
        },
      ),
    );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([Promise.all(all), deadline]);
  clearTimeout(timer);
  const wallMs = performance.now() - t0;
  return { ok, failed, neverSettled: n - ok - failed, wallMs };
}
