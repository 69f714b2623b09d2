// `pnpm demo --browser`: the embedded OpenLoyalty reference server (member tokens, rotating single-use
// refresh tokens, a short access-token lifetime) behind a CORS proxy on its own origin, and a page
// server on 127.0.0.1 whose page shows several same-origin frames of one member app, live.
import { fileURLToPath } from 'node:url';
import { createOpenLoyaltyServer, sendJson, type OpenLoyaltyServer, type RunningServer } from '@auth/testing';
import { bundleForBrowser, corsProxy, servePage } from '@auth/testing/browser';

/** The embedded server's member account (a demo account: its password is in the demo's README). */
export const BROWSER_MEMBER = { username: 'member@example.com', password: 'member-demo-pw' };

export interface BrowserDemoOptions {
  /** Frames of the app side by side. Default 4. */
  tabs?: number;
  /** The member access token's lifetime in seconds. Default 20: a renewal every 15 s while you watch. */
  accessTokenTtlSec?: number;
  /** How often each tab sends a request on its own, in ms (0: never). Default 5 000. */
  heartbeatMs?: number;
}

export interface BrowserDemo {
  /** The page to open: `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly server: OpenLoyaltyServer;
  close(): Promise<void>;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export async function startBrowserDemo(opts: BrowserDemoOptions = {}): Promise<BrowserDemo> {
  const tabs = opts.tabs ?? 4;
  // The app is built from the packages' dist (as a browser app ships them), not from their sources.
  const [tabCode, dashboardCode] = await Promise.all([
    bundleForBrowser({ entry: here('./tab.ts') }),
    bundleForBrowser({ entry: here('./dashboard.ts') }),
  ]);
  const server = await createOpenLoyaltyServer({
    stores: { default: [BROWSER_MEMBER] },
    accessTokenTtlSec: opts.accessTokenTtlSec ?? 20,
    rateLimit: false,
  });
  const started: RunningServer[] = [server];
  try {
    const api = await corsProxy(server.url);
    started.push(api);
    const frameQuery = (n: number) =>
      new URLSearchParams({ tab: String(n), api: api.url, heartbeat: String(opts.heartbeatMs ?? 5_000) });
    const page = await servePage({
      files: {
        '/': { type: 'text/html', body: dashboardHtml(tabs, frameQuery) },
        '/tab': { type: 'text/html', body: TAB_HTML },
        '/tab.js': { type: 'text/javascript', body: tabCode },
        '/dashboard.js': { type: 'text/javascript', body: dashboardCode },
      },
      handler: async (req, res) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (path === '/demo/state' && req.method === 'GET') {
          const { logins, refreshes, refreshesRejected, loginsRejected, apiCalls, apiRejected } = server.counters;
          return sendJson(
            res,
            200,
            { logins, refreshes, refreshesRejected, loginsRejected, apiCalls, apiRejected },
            { 'cache-control': 'no-store' },
          );
        }
        if (path === '/demo/expire' && req.method === 'POST') {
          // Tokens the server issues directly (not counted as a login), their access token already expired.
          const issued = await server.issueTokens({
            username: BROWSER_MEMBER.username,
            store: 'default',
            accessTokenTtlSec: -10,
          });
          return sendJson(
            res,
            200,
            { accessToken: issued.token, refreshToken: issued.refresh_token },
            { 'cache-control': 'no-store' },
          );
        }
        sendJson(res, 404, { message: 'Not Found' });
      },
    });
    started.push(page);
    // 127.0.0.1 is a secure context: Web Locks and crypto.subtle are there without TLS.
    return {
      url: `${page.url}/`,
      server,
      close: () => Promise.all(started.map((s) => s.close())).then(() => undefined),
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.close()));
    throw error;
  }
}

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #1d2430; background: #f4f6f9; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  p { margin: 4px 0 10px; color: #4a5566; }
  button { font: inherit; padding: 5px 12px; border: 1px solid #8393a8; border-radius: 5px; background: #fff; cursor: pointer; }
  button:hover { background: #e8eef7; }
  .bar { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
  .counters span { display: inline-block; margin-right: 14px; }
  .counters b { font-variant-numeric: tabular-nums; }
  #summary { font-weight: 600; padding: 8px 10px; background: #fff; border-left: 4px solid #2f6fd6; }
  .grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; margin-top: 10px; }
  iframe.tab { width: 100%; height: 330px; border: 1px solid #b9c4d3; border-radius: 6px; background: #fff; }
`;

function dashboardHtml(tabs: number, frameQuery: (n: number) => URLSearchParams): string {
  const frames = Array.from(
    { length: tabs },
    (_, i) => `<iframe class="tab" id="tab-${i + 1}" title="tab ${i + 1}" src="/tab?${frameQuery(i + 1)}"></iframe>`,
  ).join('\n');
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>auth-strategies: one refresh across tabs</title>
<style>${STYLE}</style>
<h1>One refresh across tabs</h1>
<p>${tabs} frames of one OpenLoyalty member app on <code>@auth/browser-store</code> (same origin: they share localStorage, Web Locks and BroadcastChannel, as browser tabs do), against the embedded reference server with rotating single-use refresh tokens. Log in in any tab.</p>
<div class="bar"><button id="expire">Expire the access token</button><button id="burst">Burst: 50 requests in every tab</button><span id="action"></span></div>
<div class="bar counters">Server: <span>logins <b id="server-logins">0</b></span><span>refreshes <b id="server-refreshes">0</b></span><span>rejected refreshes <b id="server-refreshesRejected">0</b></span><span>rejected logins <b id="server-loginsRejected">0</b></span><span>API calls <b id="server-apiCalls">0</b></span><span>answered 401 <b id="server-apiRejected">0</b></span></div>
<div id="summary"></div>
<div class="grid">
${frames}
</div>
<script type="module" src="/dashboard.js"></script>
</html>`;
}

const TAB_HTML = `<!doctype html><html lang="en"><meta charset="utf-8"><title>tab</title>
<style>
  [hidden] { display: none !important; }
  body { font: 13px/1.4 system-ui, sans-serif; margin: 10px; color: #1d2430; }
  h2 { font-size: 15px; margin: 0 0 4px; }
  #status { font-family: ui-monospace, monospace; margin-bottom: 6px; }
  #status[data-signed-in="false"] { color: #a33; }
  .counters span { margin-right: 10px; }
  .counters b { font-variant-numeric: tabular-nums; }
  button, input { font: inherit; padding: 3px 8px; }
  form, .bar { display: flex; gap: 6px; flex-wrap: wrap; margin: 6px 0; }
  #log { font: 12px/1.35 ui-monospace, monospace; background: #f4f6f9; padding: 6px; height: 150px; overflow: hidden; margin: 0; white-space: pre; }
</style>
<h2 id="name">Tab</h2>
<div id="status" data-signed-in="false">starting…</div>
<div class="counters"><span>renewed <b id="renewed">0</b></span><span>adopted <b id="adopted">0</b></span><span>logins <b id="logins">0</b></span><span>ok <b id="ok">0</b></span><span>failed <b id="failed">0</b></span></div>
<form id="login" hidden><input id="username" name="username" autocomplete="username" value="${BROWSER_MEMBER.username}" aria-label="email"><input id="password" name="password" type="password" autocomplete="current-password" placeholder="password" aria-label="password"><button type="submit">Log in</button></form>
<div class="bar"><button id="send">Send a request</button><button id="burst">Burst 50</button><button id="reload">Reload</button><button id="logout">Log out</button></div>
<pre id="log"></pre>
<script type="module" src="/tab.js"></script>
</html>`;
