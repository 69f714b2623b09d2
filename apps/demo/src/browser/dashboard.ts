// The browser demo's page around the tabs: same-origin frames of one app (they share localStorage,
// Web Locks and BroadcastChannel, as tabs do), the reference server's counters, and the buttons that
// act on every tab. It reads each frame's `demoTab` directly (same origin).
import type { DemoTab, TabStats } from './tab.js';

interface ServerState {
  logins: number;
  refreshes: number;
  refreshesRejected: number;
  loginsRejected: number;
  apiCalls: number;
  apiRejected: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const frames = Array.from(document.querySelectorAll<HTMLIFrameElement>('iframe.tab'));
const tabOf = (frame: HTMLIFrameElement) => (frame.contentWindow as (Window & { demoTab?: DemoTab }) | null)?.demoTab;
const allStats = () => frames.map((f) => tabOf(f)?.stats());

async function serverState(): Promise<ServerState> {
  return (await (await fetch('/demo/state')).json()) as ServerState;
}

/** Counters at the last expiry, per tab (a tab reloaded since counts from zero). */
let baseline: (TabStats | undefined)[] | undefined;
let burstLine = '';

function since(
  now: TabStats | undefined,
  then: TabStats | undefined,
  key: 'renewed' | 'adopted' | 'logins' | 'ok' | 'failed',
): number {
  if (!now) return 0;
  return now[key] - (then && then.loadId === now.loadId ? then[key] : 0);
}

async function render(): Promise<void> {
  const s = await serverState();
  for (const key of ['logins', 'refreshes', 'refreshesRejected', 'loginsRejected', 'apiCalls', 'apiRejected'] as const)
    $(`server-${key}`).textContent = String(s[key]);
  const summary = $('summary');
  if (!baseline) {
    summary.textContent = 'Log in in one tab, then expire the access token and fire a burst.';
    return;
  }
  const now = allStats();
  const renewed = now.flatMap((t, i) => (t && since(t, baseline![i], 'renewed') > 0 ? [t.tab] : []));
  const adopted = now.flatMap((t, i) =>
    t && since(t, baseline![i], 'adopted') > 0 && !renewed.includes(t.tab) ? [t.tab] : [],
  );
  const ok = now.reduce((n, t, i) => n + since(t, baseline![i], 'ok'), 0);
  const failed = now.reduce((n, t, i) => n + since(t, baseline![i], 'failed'), 0);
  summary.dataset.renewed = renewed.join(',');
  summary.dataset.adopted = adopted.join(',');
  summary.dataset.ok = String(ok);
  summary.dataset.failed = String(failed);
  const tabs = (list: number[]) => (list.length ? list.map((n) => `tab ${n}`).join(', ') : 'none');
  summary.textContent = `Since the access token expired: renewed by ${tabs(renewed)} · adopted by ${tabs(adopted)} · ${ok} requests ok, ${failed} failed${burstLine ? ` · ${burstLine}` : ''}`;
}

$('expire').addEventListener('click', async () => {
  const first = frames.map(tabOf).find((t) => t?.stats().signedIn);
  if (!first) return void ($('action').textContent = 'Log in in a tab first.');
  const before = allStats().map((t) => t?.fingerprint);
  baseline = allStats();
  burstLine = '';
  // An already expired access token with a live refresh token, issued by the server and put into one
  // tab: the store hands it to every tab, as if the token had just run out everywhere.
  const tokens = (await (await fetch('/demo/expire', { method: 'POST' })).json()) as {
    accessToken: string;
    refreshToken: string;
  };
  await first.importTokens(tokens);
  const started = Date.now();
  while (allStats().some((t, i) => t?.signedIn && t.fingerprint === before[i]) && Date.now() - started < 10_000)
    await new Promise((r) => setTimeout(r, 100));
  $('action').textContent = 'The access token expired in every tab.';
  $('action').dataset.done = 'expire';
  await render();
});

$('burst').addEventListener('click', async () => {
  $('action').dataset.done = '';
  $('action').textContent = 'Burst: 50 requests in every tab…';
  const results = await Promise.all(frames.map((f) => tabOf(f)?.burst(50) ?? Promise.resolve({ ok: 0, failed: 50 })));
  const ok = results.reduce((n, r) => n + r.ok, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  burstLine = `last burst: ${ok} ok, ${failed} failed`;
  $('action').textContent = `Burst done: ${ok} ok, ${failed} failed.`;
  $('action').dataset.done = 'burst';
  await render();
});

setInterval(() => void render(), 500);
await render();
(globalThis as { dashboardReady?: boolean }).dashboardReady = true;
