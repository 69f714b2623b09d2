// The conformance suite, written once and run unchanged on every runtime of the matrix (Node, Deno,
// Bun, workerd, Chromium). Runtime-neutral on purpose: only `fetch`, `AbortController`, `setTimeout`,
// `URL` and JSON; no Node built-ins, no runtime globals. The packages under test (their built dist)
// are handed in by a small per-runtime runner, and the reference servers run in Node: each scenario
// asks the Node side (the control server) for fresh servers over HTTP, drives them, and asserts on
// their counters.

/** The packages a scenario exercises, as they appear in the README's runtime table. */
export const PACKAGES = [
  '@auth/core',
  '@auth/fetch-adapter',
  '@auth/axios-adapter',
  '@auth/openloyalty-admin',
  '@auth/openloyalty-member',
  '@auth/openloyalty-api-key',
  '@auth/datarhei-password',
  '@auth/datarhei-auth0',
];

const PASSWORDS = { admin: 'password', member: 'password', datarhei: 'datarhei' };
const API_KEY = 'conformance-api-key-5d1c9e';

class AssertionFailed extends Error {}

function eq(actual, expected, what) {
  if (actual !== expected)
    throw new AssertionFailed(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function ok(cond, what) {
  if (!cond) throw new AssertionFailed(what);
}
async function rejects(promise, code, what) {
  try {
    await promise;
  } catch (e) {
    if (Array.isArray(code))
      ok(code.includes(e?.code), `${what}: error code ${e?.code}, expected one of ${code.join(', ')}`);
    else eq(e?.code, code, `${what}: error code`);
    return e;
  }
  throw new AssertionFailed(`${what}: expected a rejection with ${code}, it resolved`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The Node side: fresh reference servers per scenario, their counters, and fault injection. */
function controlClient(controlUrl) {
  const call = async (op, body = {}) => {
    const res = await fetch(`${controlUrl}/ctl/${op}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`control ${op}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  return {
    start: (kind, options = {}) => call('start', { kind, options }),
    counters: (id) => call('counters', { id }),
    act: (id, action, arg) => call('act', { id, action, arg }),
    captured: (id) => call('captured', { id }),
  };
}

/** A client clock the scenario can move forward, so lifetimes pass without waiting. */
function clock() {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

/**
 * Every strategy, described once: how to start its server, build it, and what its protected route,
 * expiry and rate limit are. `ttlMs` is the access token's lifetime on the reference server.
 */
function strategies(m) {
  return {
    'openloyalty-admin': {
      module: 'olAdmin',
      pkg: '@auth/openloyalty-admin',
      kind: 'openloyalty',
      ttlMs: 86_400_000,
      rateLimited: true,
      api: '/api/default/member',
      make: (srv, o = {}) =>
        m.olAdmin.openLoyaltyAdmin({
          baseUrl: srv.url,
          username: 'admin',
          password: o.password ?? PASSWORDS.admin,
          ...(o.rateLimit ? { rateLimit: o.rateLimit } : {}),
        }),
    },
    'openloyalty-member': {
      module: 'olMember',
      pkg: '@auth/openloyalty-member',
      kind: 'openloyalty',
      ttlMs: 86_400_000,
      rateLimited: true,
      api: '/api/echo',
      loginEndpoint: 'member-login',
      make: (srv, o = {}) =>
        m.olMember.openLoyaltyMember({
          baseUrl: srv.url,
          storeCode: 'default',
          username: 'member@example.com',
          password: o.password ?? PASSWORDS.member,
          ...(o.rateLimit ? { rateLimit: o.rateLimit } : {}),
        }),
    },
    'datarhei-password': {
      module: 'drPassword',
      pkg: '@auth/datarhei-password',
      kind: 'datarhei',
      ttlMs: 600_000,
      api: '/api/v3/process',
      make: (srv, o = {}) =>
        m.drPassword.datarheiPassword({
          baseUrl: srv.url,
          username: 'admin',
          password: o.password ?? PASSWORDS.datarhei,
        }),
    },
    'datarhei-auth0': {
      module: 'drAuth0',
      pkg: '@auth/datarhei-auth0',
      kind: 'datarhei-auth0',
      ttlMs: 600_000,
      api: '/api/v3/process',
      make: (srv, o = {}) =>
        m.drAuth0.datarheiAuth0({
          baseUrl: srv.url,
          clientCredentials: {
            issuer: srv.issuer,
            clientId: srv.clientId,
            clientSecret: o.password ?? srv.clientSecret,
            resource: srv.resource,
            allowInsecureRequests: true,
          },
        }),
    },
  };
}

/** Reads a response's status (and drains it: an unread body keeps a connection busy on some runtimes). */
async function statusOf(res) {
  await res.arrayBuffer();
  return res.status;
}

/**
 * A client of one kind: `send(path, {signal})` → status, through the fetch adapter or axios.
 * `validateStatus: () => true` makes axios hand back every status like fetch does.
 */
function clients(m) {
  const out = {
    fetch: {
      pkg: '@auth/fetch-adapter',
      make(session, baseUrl) {
        const authFetch = m.fetchAdapter.createAuthFetch(session);
        return {
          send: async (path, init = {}) => statusOf(await authFetch(new URL(path, baseUrl).toString(), init)),
          raw: authFetch,
        };
      },
    },
  };
  if (m.axios && m.axiosAdapter) {
    out.axios = {
      pkg: '@auth/axios-adapter',
      make(session, baseUrl) {
        const api = m.axios.create({ baseURL: baseUrl, validateStatus: () => true });
        m.axiosAdapter.attachAuth(api, session);
        return { send: async (path, init = {}) => (await api.get(path, { signal: init.signal })).status, raw: api };
      },
    };
  }
  return out;
}

/** All scenarios for the packages this runtime was handed. Names are stable: they are the report's keys. */
export function buildScenarios(m) {
  const { createAuthSession, isAuthError } = m.core;
  const list = [];
  const add = (name, packages, run) => list.push({ name, packages, run });
  // a runtime is handed the strategies it can run: the others' scenarios are not built
  const strats = Object.fromEntries(Object.entries(strategies(m)).filter(([, s]) => m[s.module]));
  const kinds = clients(m);

  for (const [sname, s] of Object.entries(strats)) {
    for (const [cname, c] of Object.entries(kinds)) {
      // axios runs the full set with the two protocols (rotating and non-rotating refresh); fetch with all.
      if (cname === 'axios' && sname !== 'openloyalty-admin' && sname !== 'datarhei-password') continue;
      const pkgs = ['@auth/core', c.pkg, s.pkg];
      const prefix = `${sname} + ${cname}`;
      const setup = async (ctl, o = {}) => {
        const srv = await ctl.start(s.kind, o.server ?? {});
        const clk = clock();
        const session = createAuthSession(s.make(srv, o), { now: clk.now, retry: { baseDelayMs: 5, retries: 1 } });
        const client = c.make(session, srv.url);
        return { srv, clk, session, client, counters: () => ctl.counters(srv.id) };
      };
      const all = (client, n, path = s.api) => Promise.all(Array.from({ length: n }, () => client.send(path)));
      const allOk = (statuses, what) => eq(statuses.filter((x) => x !== 200).length, 0, `${what}: non-200 answers`);

      add(`${prefix}: login`, pkgs, async (ctl) => {
        const { client, counters, session } = await setup(ctl);
        eq(await client.send(s.api), 200, 'status');
        const n = await counters();
        eq(n.logins, 1, 'logins');
        eq(n.apiRejected, 0, 'rejected API calls');
        session.close();
      });

      add(`${prefix}: a cached token costs no auth call`, pkgs, async (ctl) => {
        const { client, counters, session } = await setup(ctl);
        eq(await client.send(s.api), 200, 'first status');
        const before = await counters();
        allOk(await all(client, 20), '20 more requests');
        const n = await counters();
        eq(n.authCalls - before.authCalls, 0, 'auth calls for 20 requests on a cached token');
        eq(n.apiCalls - before.apiCalls, 20, 'API calls');
        session.close();
      });

      add(`${prefix}: refresh ahead of expiry`, pkgs, async (ctl) => {
        const { client, counters, session, clk } = await setup(ctl);
        eq(await client.send(s.api), 200, 'first status');
        const refreshed = new Promise((r) => session.on('refresh', r));
        // into the renewal window (the last 10 %, at least 5 s) but before expiry
        clk.advance(s.ttlMs - 4_000);
        eq(await client.send(s.api), 200, 'status inside the renewal window');
        await refreshed;
        const n = await counters();
        eq(n.refreshes, 1, 'refreshes');
        eq(n.logins, 1, 'logins');
        eq(n.apiRejected, 0, 'rejected API calls (the still-valid token was served meanwhile)');
        session.close();
      });

      add(`${prefix}: 200 concurrent requests on an expired token cause 1 refresh`, pkgs, async (ctl) => {
        const { client, counters, session, clk } = await setup(ctl);
        eq(await client.send(s.api), 200, 'first status');
        clk.advance(s.ttlMs + 1_000);
        allOk(await all(client, 200), 'storm');
        const n = await counters();
        eq(n.refreshes, 1, 'refreshes');
        eq(n.logins, 1, 'logins');
        eq(n.apiRejected, 0, 'rejected API calls');
        session.close();
      });

      add(`${prefix}: a revoked token costs one replay per request and 1 refresh`, pkgs, async (ctl) => {
        const { client, counters, session, srv } = await setup(ctl);
        eq(await client.send(s.api), 200, 'first status');
        await ctl.act(srv.id, 'revokeAccessTokens');
        const before = await counters();
        allOk(await all(client, 20), '20 requests after revocation');
        const n = await counters();
        eq(n.refreshes, 1, 'refreshes');
        eq(n.apiRejected - before.apiRejected, 20, 'rejected API calls (one per request)');
        eq(n.apiCalls - before.apiCalls, 40, 'API calls (each request once, then one replay)');
        session.close();
      });

      add(`${prefix}: a dead refresh token costs one login`, pkgs, async (ctl) => {
        const { client, counters, session, srv, clk } = await setup(ctl);
        eq(await client.send(s.api), 200, 'first status');
        await ctl.act(srv.id, 'expireRefreshTokens');
        clk.advance(s.ttlMs + 1_000);
        allOk(await all(client, 20), '20 requests');
        const n = await counters();
        eq(n.refreshesRejected, 1, 'rejected refreshes');
        eq(n.logins, 2, 'logins (the first, then one fallback)');
        if (n.idpTokenRequests !== undefined)
          eq(n.idpTokenRequests, 1, 'Auth0 token requests (the cached Auth0 token logs in again)');
        session.close();
      });

      add(`${prefix}: abort while waiting for a token`, pkgs, async (ctl) => {
        const { client, counters, session, srv } = await setup(ctl);
        await ctl.act(srv.id, 'fault', {
          endpoint: s.loginEndpoint ?? 'login',
          fault: { kind: 'delay', ms: 1_500 },
          times: 1,
        });
        const ac = new AbortController();
        const aborted = client.send(s.api, { signal: ac.signal });
        const other = client.send(s.api);
        // the login is held back 1.5 s by the server: the abort lands while both callers wait for it
        await sleep(200);
        ac.abort();
        const e = await rejects(
          aborted,
          cname === 'fetch' ? 'ABORTED' : ['ABORTED', 'ERR_CANCELED'],
          'the aborted caller',
        );
        if (cname === 'fetch') ok(isAuthError(e), 'the abort is an AuthError');
        eq(await other, 200, 'the other caller');
        eq((await counters()).logins, 1, 'logins');
        session.close();
      });

      add(`${prefix}: no token to a foreign origin`, pkgs, async (ctl) => {
        const { client, session } = await setup(ctl);
        const cap = await ctl.start('capture');
        eq(await client.send(s.api), 200, 'own origin');
        eq(await client.send(`${cap.url}/collect`), 200, 'foreign origin');
        const seen = await ctl.captured(cap.id);
        eq(seen.length, 1, 'requests captured');
        eq(seen[0].authorization, null, 'Authorization at the foreign origin');
        eq(seen[0].xAuthToken, null, 'X-AUTH-TOKEN at the foreign origin');
        session.close();
      });

      add(`${prefix}: typed errors for wrong credentials and malformed answers`, pkgs, async (ctl) => {
        const wrong = 'wrong-secret-0c7d2e';
        const bad = await setup(ctl, { password: wrong });
        const e = await rejects(bad.session.getToken(), 'CREDENTIALS_REJECTED', 'wrong credentials');
        ok(isAuthError(e), 'isAuthError(wrong credentials)');
        ok(!String(e.message).includes(wrong) && !JSON.stringify(e).includes(wrong), 'the secret is not in the error');
        const n = await bad.counters();
        eq(n.logins, 0, 'logins with wrong credentials');
        bad.session.close();

        const good = await setup(ctl);
        await ctl.act(good.srv.id, 'fault', {
          endpoint: s.loginEndpoint ?? 'login',
          fault: { kind: 'malformed-json' },
          times: 1,
        });
        const e2 = await rejects(good.session.getToken(), 'BAD_RESPONSE', 'malformed answer');
        ok(isAuthError(e2), 'isAuthError(malformed answer)');
        eq((await good.counters()).loginAttempts, 1, 'login attempts (a malformed answer is not retried)');
        good.session.close();
      });

      if (s.rateLimited) {
        add(`${prefix}: pacing under the strategy's rate limit`, pkgs, async (ctl) => {
          const rateLimit = { max: 3, windowMs: 1_000 };
          const srv = await ctl.start(s.kind, { rateLimit });
          // seven sessions of one account share the strategy's budget: seven logins, at most 3 per window
          const sessions = Array.from({ length: 7 }, () =>
            createAuthSession(s.make(srv, { rateLimit }), { retry: { baseDelayMs: 5, retries: 1 } }),
          );
          const statuses = await Promise.all(sessions.map((x) => c.make(x, srv.url).send(s.api)));
          allOk(statuses, 'paced requests');
          const n = await ctl.counters(srv.id);
          eq(n.logins, 7, 'logins');
          eq(n.rateLimited, 0, '429s');
          ok(n.maxAuthCallsInWindow <= 3, `at most 3 auth calls in any window, saw ${n.maxAuthCallsInWindow}`);
          for (const x of sessions) x.close();
        });
      }
    }
  }

  // API keys: no auth call ever, a rejected key is replayed once and never loops.
  for (const [cname, c] of Object.entries(m.olApiKey ? kinds : {})) {
    const pkgs = ['@auth/core', c.pkg, '@auth/openloyalty-api-key'];
    const prefix = `openloyalty-api-key + ${cname}`;
    const setup = async (ctl) => {
      const srv = await ctl.start('openloyalty', { apiKeys: [{ key: API_KEY }] });
      const session = createAuthSession(m.olApiKey.openLoyaltyApiKey({ baseUrl: srv.url, apiKey: API_KEY }));
      return { srv, session, client: c.make(session, srv.url), counters: () => ctl.counters(srv.id) };
    };
    add(`${prefix}: requests carry the key, no auth call`, pkgs, async (ctl) => {
      const { client, counters, session } = await setup(ctl);
      const statuses = await Promise.all(Array.from({ length: 20 }, () => client.send('/api/echo')));
      eq(statuses.filter((x) => x !== 200).length, 0, 'non-200 answers');
      const n = await counters();
      eq(n.authCalls, 0, 'auth calls');
      eq(n.apiCalls, 20, 'API calls');
      session.close();
    });
    add(`${prefix}: a removed key is replayed once per request, never loops`, pkgs, async (ctl) => {
      const { client, counters, session, srv } = await setup(ctl);
      await ctl.act(srv.id, 'removeApiKey', API_KEY);
      const statuses = await Promise.all(Array.from({ length: 5 }, () => client.send('/api/echo')));
      eq(statuses.filter((x) => x !== 401).length, 0, 'non-401 answers');
      const n = await counters();
      eq(n.apiRejected, 10, 'rejected calls (each request once, then one replay)');
      session.close();
    });
    // Browsers follow redirects themselves and keep custom headers (see the fetch adapter's README).
    if (!m.browser) {
      add(`${prefix}: no key across a redirect to a foreign origin`, pkgs, async (ctl) => {
        const cap = await ctl.start('capture');
        const api = await ctl.start('redirector', { to: `${cap.url}/collect` });
        const session = createAuthSession(m.olApiKey.openLoyaltyApiKey({ baseUrl: api.url, apiKey: API_KEY }));
        eq(await c.make(session, api.url).send('/api/echo'), 200, 'answer after the redirect');
        const seen = await ctl.captured(cap.id);
        eq(seen.length, 1, 'requests captured');
        eq(seen[0].xAuthToken, null, 'X-AUTH-TOKEN at the foreign origin');
        eq(seen[0].authorization, null, 'Authorization at the foreign origin');
        session.close();
      });
    }
    add(`${prefix}: no key to a foreign origin`, pkgs, async (ctl) => {
      const { client, session } = await setup(ctl);
      const cap = await ctl.start('capture');
      eq(await client.send(`${cap.url}/collect`), 200, 'foreign origin');
      const seen = await ctl.captured(cap.id);
      eq(seen[0]?.xAuthToken, null, 'X-AUTH-TOKEN at the foreign origin');
      eq(seen[0]?.authorization, null, 'Authorization at the foreign origin');
      session.close();
    });
  }
  return list;
}

/**
 * Runs the scenarios (all, or those named in `only`) one after the other and returns
 * `[{ name, packages, ok, error? }]`; never throws for a failing scenario.
 */
export async function runConformance({ control, modules, only }) {
  const ctl = controlClient(control);
  const results = [];
  for (const sc of buildScenarios(modules)) {
    if (only && !only.includes(sc.name)) continue;
    try {
      await sc.run(ctl);
      results.push({ name: sc.name, packages: sc.packages, ok: true });
    } catch (e) {
      results.push({
        name: sc.name,
        packages: sc.packages,
        ok: false,
        error: `${e?.name ?? 'Error'}: ${e?.message ?? String(e)}${e?.code ? ` [${e.code}]` : ''}`,
      });
    }
  }
  return results;
}
