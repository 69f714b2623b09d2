import axios, { isAxiosError } from 'axios';
import {
  createAuthSession,
  isAuthError,
  type AuthError,
  type AuthSession,
  type AuthSessionOptions,
  type Strategy,
} from '@auth/core';
import { attachAuth } from '@auth/axios-adapter';
import { createAuthFetch, type AuthFetch } from '@auth/fetch-adapter';
import { openLoyaltyAdmin } from '@auth/openloyalty-admin';
import { openLoyaltyMember } from '@auth/openloyalty-member';
import { openLoyaltyApiKey } from '@auth/openloyalty-api-key';
import { datarheiPassword } from '@auth/datarhei-password';
import { datarheiAuth0 } from '@auth/datarhei-auth0';
import {
  createDatarheiServer,
  createOpenLoyaltyServer,
  type DatarheiServer,
  type OpenLoyaltyServer,
} from '@auth/testing';
import { DemoConfigError, type DemoConfig } from './config.js';
import { AUTH0_API, startLocalIdp, type LocalIdp } from './idp.js';
import { textTable, type Timeline } from './timeline.js';

/**
 * What one step of the tour did. Auth calls are counted from the sessions' events (attempts: successes and failures).
 */
export interface StepResult {
  id: StepId;
  title: string;
  status: 'ok' | 'failed' | 'skipped';
  /** API requests sent by the step (through the adapters). */
  requests: number;
  /** API requests that did not end in a 2xx answer. */
  failed: number;
  logins: number;
  refreshes: number;
  /** Largest number of auth calls the server saw in any rate-limit window (embedded server only). */
  maxAuthCallsInWindow?: number;
  /** 429 answers the server gave (embedded server only). */
  rateLimited?: number;
  /** API requests the server answered 401 (embedded server only), before they were replayed. */
  rejected?: number;
  /** Login and refresh calls the server saw (embedded server only): checked against `logins + refreshes`. */
  serverAuthCalls?: number;
  note: string;
  ms: number;
}

export type StepId =
  | 'logins'
  | 'concurrent'
  | 'expiry'
  | 'revoked'
  | 'burst'
  | 'dead-refresh'
  | 'api-key'
  | 'datarhei-password'
  | 'datarhei-auth0';

export interface TourSummary {
  steps: StepResult[];
  /** True when no step failed. */
  ok: boolean;
}

/** Lifetimes and limits of the embedded servers: short, so the whole tour takes seconds. */
export const EMBEDDED = {
  // Long enough that the first steps finish before the refresh-ahead point (expiry − 5 s) even on a
  // loaded machine; the expiry step waits it out.
  olAccessTtlSec: 12,
  olRateLimit: { max: 20, windowMs: 3_000 },
  coreAccessTtlSec: 2,
  apiKey: 'demo-api-key-0123456789abcdef',
  admin: { username: 'admin', password: 'password' },
  member: { username: 'member@example.com', password: 'password' },
  core: { username: 'admin', password: 'datarhei' },
};

/** Counts a session's auth calls (attempts) per operation. */
class AuthCounter {
  logins = 0;
  refreshes = 0;
  readonly #offs: (() => void)[] = [];
  watch(session: AuthSession): this {
    this.#offs.push(
      session.on('login', () => void (this.logins += 1)),
      session.on('refresh', () => void (this.refreshes += 1)),
      session.on('failure', (e) => {
        if (e.operation === 'login') this.logins += 1;
        if (e.operation === 'refresh') this.refreshes += 1;
      }),
    );
    return this;
  }
  stop(): void {
    for (const off of this.#offs) off();
  }
}

interface Tally {
  requests: number;
  failed: number;
  errors: unknown[];
}

async function tally(requests: (() => Promise<unknown>)[]): Promise<Tally> {
  const out: Tally = { requests: requests.length, failed: 0, errors: [] };
  await Promise.all(
    requests.map((send) =>
      send().then(
        (res) => {
          if (res instanceof Response) {
            if (!res.ok) {
              out.failed += 1;
              out.errors.push(new Error(`HTTP ${res.status}`));
            }
            return res.arrayBuffer();
          }
          return undefined;
        },
        (error: unknown) => {
          out.failed += 1;
          out.errors.push(error);
        },
      ),
    ),
  );
  return out;
}

const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** Decodes a JWT's payload without checking it (the server does). */
function claims(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function describe(error: unknown): string {
  if (isAuthError(error)) return `${error.code}${error.status ? ` ${error.status}` : ''}: ${error.message}`;
  if (isAxiosError(error)) return error.response ? `HTTP ${error.response.status}` : `${error.code ?? 'network error'}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * On a real server, a rejected login, a refused connection or a wrong URL is the user's set-up, not
 * a failed step: stop with one clear line (naming the variables to check, never their values).
 */
function checkSetUp(real: boolean, errors: unknown[], what: string, hint: string, urlOption: string): void {
  if (!real) return;
  for (const e of errors) {
    const auth = isAuthError(e) ? (e as AuthError) : undefined;
    // A 404 at the login endpoint is a wrong base URL, not wrong credentials.
    if (auth && auth.status === 404)
      throw new DemoConfigError(`${what} answered 404 at its login endpoint: is ${urlOption} the API's base URL?`);
    if (auth && (auth.code === 'CREDENTIALS_REJECTED' || auth.code === 'CONFIGURATION'))
      throw new DemoConfigError(
        `${what} refused the login (${auth.code}${auth.status ? `, HTTP ${auth.status}` : ''}); check ${hint}`,
      );
    if (auth && (auth.code === 'NETWORK' || auth.code === 'TIMEOUT' || auth.code === 'BAD_RESPONSE'))
      throw new DemoConfigError(
        `${what} could not be reached or did not answer as expected (${auth.code}); check the URL`,
      );
    if (isAxiosError(e) && !e.response)
      throw new DemoConfigError(`${what} could not be reached (${e.code ?? 'network error'}); check the URL`);
    if (e instanceof TypeError && /fetch failed/i.test(e.message))
      throw new DemoConfigError(`${what} could not be reached; check the URL`);
  }
}

interface Ctx {
  config: DemoConfig;
  timeline: Timeline;
  ol: {
    url: string;
    admin: { username: string; password: string };
    member?: { username: string; password: string };
    store: string;
    apiKey?: string;
    server?: OpenLoyaltyServer;
  };
  core: {
    url: string;
    username: string;
    password: string;
    server?: DatarheiServer;
    auth0?: {
      issuer: string;
      clientId: string;
      clientSecret: string;
      audience?: string;
      resource?: string;
      local: boolean;
    };
    idp?: LocalIdp;
  };
  sessions: AuthSession[];
}

function session(ctx: Ctx, strategy: Strategy, opts: AuthSessionOptions = {}): AuthSession {
  const s = createAuthSession(strategy, opts);
  ctx.sessions.push(s);
  return s;
}

/**
 * Plays the tour. Starts the embedded servers for whatever `config` does not point at a real one,
 * and closes them (and every session) at the end.
 */
export async function runTour(config: DemoConfig, timeline: Timeline): Promise<TourSummary> {
  const closers: (() => Promise<void>)[] = [];
  const steps: StepResult[] = [];
  try {
    const ctx = await setUp(config, timeline, closers);
    const olReal = config.openloyalty !== undefined;
    const coreReal = config.datarhei !== undefined;
    const olHint = 'OPENLOYALTY_URL, OPENLOYALTY_ADMIN_USER and OPENLOYALTY_ADMIN_PASSWORD';
    const olUrlOption = 'OPENLOYALTY_URL (--openloyalty-url)';

    // ---- OpenLoyalty: one admin session shared by an axios instance and a fetch ----
    const rateLimit = ctx.ol.server ? EMBEDDED.olRateLimit : undefined;
    const adminStrategy = () =>
      openLoyaltyAdmin({ baseUrl: ctx.ol.url, ...ctx.ol.admin, ...(rateLimit ? { rateLimit } : {}) });
    const admin = session(ctx, adminStrategy());
    const olAxios = axios.create({ baseURL: ctx.ol.url });
    attachAuth(olAxios, admin);
    const olFetch = createAuthFetch(admin);
    const listPath = `/api/${encodeURIComponent(ctx.ol.store)}/member`;
    const viaAxios = () => olAxios.get(listPath);
    const viaFetch = () => olFetch(`${ctx.ol.url}${listPath}`);
    const counter = new AuthCounter().watch(admin);

    const run = async (
      id: StepId,
      title: string,
      body: (r: StepResult) => Promise<void>,
      skip?: string,
    ): Promise<void> => {
      timeline.step(title);
      const r: StepResult = {
        id,
        title,
        status: 'ok',
        requests: 0,
        failed: 0,
        logins: 0,
        refreshes: 0,
        note: '',
        ms: 0,
      };
      steps.push(r);
      if (skip) {
        r.status = 'skipped';
        r.note = skip;
        timeline.info(`skipped: ${skip}`);
        return;
      }
      const t0 = timeline.elapsedMs;
      counter.logins = 0;
      counter.refreshes = 0;
      ctx.ol.server?.resetCounters();
      try {
        await body(r);
      } catch (error) {
        if (error instanceof DemoConfigError) throw error;
        r.status = 'failed';
        r.note = describe(error);
      }
      r.ms = timeline.elapsedMs - t0;
      if (r.status === 'failed') timeline.info(`✗ ${r.note}`);
      else timeline.info(`✓ ${r.note}`);
    };
    const expect = (r: StepResult, ok: boolean, note: string) => {
      r.note = note;
      if (!ok) r.status = 'failed';
    };
    /**
     * On the embedded server, the step's figures are checked against what the server saw: its 401s
     * and its auth calls (which must equal the logins and refreshes the session reported).
     */
    const serverSaw = (r: StepResult): { ok: boolean; text: string } => {
      const server = ctx.ol.server;
      if (!server) return { ok: true, text: '' };
      r.rejected = server.counters.apiRejected;
      r.serverAuthCalls = server.counters.authCalls;
      const ok = r.serverAuthCalls === r.logins + r.refreshes;
      return { ok, text: ok ? '' : ` (but the server saw ${r.serverAuthCalls} auth calls)` };
    };
    const record = (r: StepResult, t: Tally) => {
      r.requests += t.requests;
      r.failed += t.failed;
      if (t.errors.length) timeline.info(`first failure: ${describe(t.errors[0])}`);
    };

    await run('logins', 'Admin and member logins (OpenLoyalty)', async (r) => {
      const a = await tally([viaAxios]);
      checkSetUp(olReal, a.errors, 'OpenLoyalty', olHint, olUrlOption);
      record(r, a);
      timeline.info(`admin: GET ${listPath} through axios → logged in (${counter.logins} login call)`);
      let memberLogins = 0;
      if (ctx.ol.member) {
        const member = session(
          ctx,
          openLoyaltyMember({ baseUrl: ctx.ol.url, storeCode: ctx.ol.store, ...ctx.ol.member }),
        );
        const memberCounter = new AuthCounter().watch(member);
        const memberFetch = createAuthFetch(member);
        let tokens;
        try {
          tokens = await member.getToken();
        } catch (error) {
          checkSetUp(
            olReal,
            [error],
            'OpenLoyalty (member login)',
            'OPENLOYALTY_MEMBER_USER, OPENLOYALTY_MEMBER_PASSWORD and OPENLOYALTY_STORE',
            olUrlOption,
          );
          throw error;
        }
        const id = String(claims(tokens.accessToken).id ?? '');
        const m = await tally([
          () => memberFetch(`${ctx.ol.url}/api/${encodeURIComponent(ctx.ol.store)}/member/${encodeURIComponent(id)}`),
        ]);
        record(r, m);
        memberLogins = memberCounter.logins;
        memberCounter.stop();
        timeline.info(
          `member: GET /api/${ctx.ol.store}/member/{own id} through fetch → logged in (${memberLogins} login call; member tokens are deprecated upstream)`,
        );
      }
      r.logins = counter.logins + memberLogins;
      const expected = ctx.ol.member ? 2 : 1;
      expect(r, r.failed === 0 && r.logins === expected, `${r.logins} logins, ${r.failed} failed requests`);
    });

    await run('concurrent', '200 concurrent requests through axios and 200 through fetch, one session', async (r) => {
      const t = await tally([...times(200, () => viaAxios), ...times(200, () => viaFetch)]);
      record(r, t);
      r.logins = counter.logins;
      r.refreshes = counter.refreshes;
      const seen = serverSaw(r);
      expect(
        r,
        r.failed === 0 && r.logins + r.refreshes === 0 && seen.ok,
        `${t.requests} requests, ${t.failed} failed, ${r.logins + r.refreshes} auth calls (the token is shared)${seen.text}`,
      );
    });

    const noControls = 'needs the embedded server (short token lifetimes and server-side controls)';
    await run(
      'expiry',
      'The access token expires → one refresh for 200 waiting requests',
      async (r) => {
        const tokens = await admin.exportTokens();
        const wait = Math.max(0, (tokens?.expiresAt ?? Date.now()) - Date.now()) + 250;
        await timeline.sleep(`waiting for the ${EMBEDDED.olAccessTtlSec} s access token to expire`, wait);
        const t = await tally([...times(100, () => viaAxios), ...times(100, () => viaFetch)]);
        record(r, t);
        r.logins = counter.logins;
        r.refreshes = counter.refreshes;
        const seen = serverSaw(r);
        expect(
          r,
          r.failed === 0 && r.refreshes === 1 && r.logins === 0 && seen.ok,
          `${t.requests} requests, ${r.refreshes} refresh, ${r.logins} logins, ${t.failed} failed${seen.text}`,
        );
      },
      ctx.ol.server ? undefined : noControls,
    );

    await run(
      'revoked',
      'The access token is revoked on the server → recovery with one refresh',
      async (r) => {
        const n = ctx.ol.server!.revokeAccessTokens();
        timeline.info(`server: ${n} access tokens revoked (still unexpired)`);
        const t = await tally([...times(100, () => viaAxios), ...times(100, () => viaFetch)]);
        record(r, t);
        r.logins = counter.logins;
        r.refreshes = counter.refreshes;
        const seen = serverSaw(r);
        // The recovery is only shown if the server did turn requests away: its count, not an assumption.
        expect(
          r,
          r.failed === 0 && r.refreshes === 1 && r.logins === 0 && (r.rejected ?? 0) > 0 && seen.ok,
          `${t.requests} requests, ${r.rejected} answered 401 by the server and replayed: ${r.refreshes} refresh, ${t.failed} failed${seen.text}`,
        );
      },
      ctx.ol.server ? undefined : noControls,
    );

    await run(
      'burst',
      `A burst of ${config.burst} forced logins, paced under the limit of 20 per window`,
      async (r) => {
        const windowText = rateLimit ? `${rateLimit.windowMs / 1000} s` : 'minute';
        timeline.info(
          `${config.burst} sessions of the same account each force a login; they share one budget of 20 per ${windowText}`,
        );
        const burstCounter = new AuthCounter();
        const sessions = times(config.burst, () => {
          const s = session(ctx, adminStrategy());
          burstCounter.watch(s);
          return s;
        });
        let done = 0;
        const t0 = timeline.elapsedMs;
        const work = tally(sessions.map((s) => () => s.login().finally(() => (done += 1))));
        const t = await timeline.wait('forced logins', work, () => ({
          fraction: done / config.burst,
          text: `${done}/${config.burst} logins, ${((timeline.elapsedMs - t0) / 1000).toFixed(1)} s`,
        }));
        checkSetUp(olReal, t.errors, 'OpenLoyalty', olHint, olUrlOption);
        burstCounter.stop();
        r.requests = 0;
        r.failed = t.failed;
        if (t.errors.length) timeline.info(`first failure: ${describe(t.errors[0])}`);
        r.logins = burstCounter.logins;
        if (ctx.ol.server) {
          r.maxAuthCallsInWindow = ctx.ol.server.counters.maxAuthCallsInWindow;
          r.rateLimited = ctx.ol.server.counters.rateLimited;
        }
        const within = r.maxAuthCallsInWindow === undefined || r.maxAuthCallsInWindow <= 20;
        expect(
          r,
          t.failed === 0 && within && (r.rateLimited ?? 0) === 0,
          `${r.logins} logins, ${t.failed} failed${r.maxAuthCallsInWindow !== undefined ? `, at most ${r.maxAuthCallsInWindow} auth calls in any ${windowText} window, ${r.rateLimited} answered 429` : ''}`,
        );
      },
    );

    await run(
      'dead-refresh',
      'A dead refresh token → a new login',
      async (r) => {
        const server = ctx.ol.server!;
        const killed = server.expireRefreshTokens();
        server.revokeAccessTokens();
        timeline.info(`server: ${killed} refresh tokens killed, access tokens revoked`);
        const t = await tally([...times(50, () => viaAxios), ...times(50, () => viaFetch)]);
        record(r, t);
        r.logins = counter.logins;
        r.refreshes = counter.refreshes;
        const seen = serverSaw(r);
        expect(
          r,
          r.failed === 0 && r.refreshes === 1 && r.logins === 1 && seen.ok,
          `${t.requests} requests: ${r.refreshes} refresh (rejected) → ${r.logins} login, ${t.failed} failed${seen.text}`,
        );
      },
      ctx.ol.server ? undefined : noControls,
    );

    await run(
      'api-key',
      'OpenLoyalty API key (X-AUTH-TOKEN): nothing to log in to',
      async (r) => {
        const keyed = session(ctx, openLoyaltyApiKey({ baseUrl: ctx.ol.url, apiKey: ctx.ol.apiKey! }));
        const keyCounter = new AuthCounter().watch(keyed);
        const api = axios.create({ baseURL: ctx.ol.url });
        attachAuth(api, keyed);
        const t = await tally(times(50, () => () => api.get(listPath)));
        checkSetUp(olReal, t.errors, 'OpenLoyalty (API key)', 'OPENLOYALTY_API_KEY', olUrlOption);
        record(r, t);
        keyCounter.stop();
        // The session's "login" is local (the key is the token): count what reached the server's auth endpoints.
        r.logins = ctx.ol.server ? ctx.ol.server.counters.authCalls : 0;
        r.refreshes = keyCounter.refreshes;
        expect(
          r,
          t.failed === 0 && r.logins + r.refreshes === 0,
          `${t.requests} requests through axios, ${t.failed} failed, no auth calls (the key itself is the credential)`,
        );
      },
      ctx.ol.apiKey ? undefined : 'set OPENLOYALTY_API_KEY to include it on a real server',
    );
    counter.stop();

    // ---- datarhei Core ----
    const coreHint = 'DATARHEI_URL, DATARHEI_USER and DATARHEI_PASSWORD';
    await run('datarhei-password', 'datarhei Core: password login, then refresh', async (r) => {
      const core = session(
        ctx,
        datarheiPassword({ baseUrl: ctx.core.url, username: ctx.core.username, password: ctx.core.password }),
      );
      const c = new AuthCounter().watch(core);
      const api = axios.create({ baseURL: ctx.core.url });
      attachAuth(api, core);
      const first = await tally(times(20, () => () => api.get('/api/v3/process')));
      checkSetUp(coreReal, first.errors, 'datarhei Core', coreHint, 'DATARHEI_URL (--datarhei-url)');
      record(r, first);
      timeline.info(`20 × GET /api/v3/process through axios → ${c.logins} login`);
      if (ctx.core.server) {
        const tokens = await core.exportTokens();
        await timeline.sleep(
          `waiting for Core's ${EMBEDDED.coreAccessTtlSec} s access token to expire`,
          Math.max(0, (tokens?.expiresAt ?? Date.now()) - Date.now()) + 250,
        );
      } else {
        timeline.info('real Core: its access tokens live 10 minutes, so the demo asks for the refresh now');
        await core.refresh();
      }
      const second = await tally(times(20, () => () => api.get('/api/v3/process')));
      record(r, second);
      r.logins = c.logins;
      r.refreshes = c.refreshes;
      c.stop();
      expect(
        r,
        r.failed === 0 && r.logins === 1 && r.refreshes === 1,
        `${r.requests} requests, ${r.logins} login, ${r.refreshes} refresh, ${r.failed} failed`,
      );
    });

    await run(
      'datarhei-auth0',
      ctx.core.auth0?.local
        ? 'datarhei Core with Auth0 tokens (a local OpenID provider stands in for Auth0)'
        : 'datarhei Core with Auth0 tokens',
      async (r) => {
        const a0 = ctx.core.auth0!;
        const core = session(
          ctx,
          datarheiAuth0({
            baseUrl: ctx.core.url,
            clientCredentials: {
              issuer: a0.issuer,
              clientId: a0.clientId,
              clientSecret: a0.clientSecret,
              ...(a0.audience ? { audience: a0.audience } : {}),
              ...(a0.resource ? { resource: a0.resource } : {}),
              ...(a0.local ? { allowInsecureRequests: true } : {}),
            },
          }),
        );
        const c = new AuthCounter().watch(core);
        const coreFetch: AuthFetch = createAuthFetch(core);
        const t = await tally(times(20, () => () => coreFetch(`${ctx.core.url}/api/v3/process`)));
        checkSetUp(
          coreReal,
          t.errors,
          'datarhei Core / Auth0',
          'AUTH0_ISSUER, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET and AUTH0_AUDIENCE',
          'DATARHEI_URL (--datarhei-url) or AUTH0_ISSUER (--auth0-issuer)',
        );
        record(r, t);
        r.logins = c.logins;
        r.refreshes = c.refreshes;
        c.stop();
        const idp = ctx.core.idp ? `, ${ctx.core.idp.tokenRequests} token request at the provider` : '';
        const coreLogins = ctx.core.server ? `, ${ctx.core.server.counters.auth0Logins} Auth0 login at Core` : '';
        expect(
          r,
          t.failed === 0 && r.logins === 1,
          `${t.requests} requests through fetch, ${r.logins} login${idp}${coreLogins}, ${t.failed} failed`,
        );
      },
      ctx.core.auth0
        ? undefined
        : 'set AUTH0_ISSUER, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET (and AUTH0_AUDIENCE) to include it on a real Core',
    );

    for (const s of ctx.sessions) s.close();
    return { steps, ok: steps.every((s) => s.status !== 'failed') };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}

async function setUp(config: DemoConfig, timeline: Timeline, closers: (() => Promise<void>)[]): Promise<Ctx> {
  const ctx = { config, timeline, sessions: [] } as unknown as Ctx;
  if (config.openloyalty) {
    const o = config.openloyalty;
    ctx.ol = {
      url: o.url,
      admin: { username: o.adminUser, password: o.adminPassword },
      store: o.storeCode,
      ...(o.memberUser && o.memberPassword ? { member: { username: o.memberUser, password: o.memberPassword } } : {}),
    };
    if (o.apiKey) ctx.ol.apiKey = o.apiKey;
    timeline.line(`OpenLoyalty: ${o.url} (real server)`);
  } else {
    const server = await createOpenLoyaltyServer({
      accessTokenTtlSec: EMBEDDED.olAccessTtlSec,
      rateLimit: { ...EMBEDDED.olRateLimit },
      admins: [EMBEDDED.admin],
      stores: { default: [EMBEDDED.member] },
      apiKeys: [{ key: EMBEDDED.apiKey }],
    });
    closers.push(() => server.close());
    ctx.ol = {
      url: server.url,
      admin: EMBEDDED.admin,
      member: EMBEDDED.member,
      store: 'default',
      apiKey: EMBEDDED.apiKey,
      server,
    };
    timeline.line(
      `OpenLoyalty: embedded reference server at ${server.url} (access tokens live ${EMBEDDED.olAccessTtlSec} s; 20 auth calls per ${EMBEDDED.olRateLimit.windowMs / 1000} s)`,
    );
  }
  if (config.datarhei) {
    const d = config.datarhei;
    ctx.core = {
      url: d.url,
      username: d.user,
      password: d.password,
      ...(d.auth0 ? { auth0: { ...d.auth0, local: false } } : {}),
    };
    timeline.line(`datarhei Core: ${d.url} (real server)`);
  } else {
    const idp = await startLocalIdp();
    closers.push(() => idp.close());
    const server = await createDatarheiServer({
      ...EMBEDDED.core,
      accessTokenTtlSeconds: EMBEDDED.coreAccessTtlSec,
      failedLoginDelayMs: 50,
      auth0Tenants: [{ issuer: idp.issuer, users: [idp.clientId], audience: AUTH0_API }],
    });
    closers.push(() => server.close());
    ctx.core = {
      url: server.url,
      ...EMBEDDED.core,
      server,
      idp,
      auth0: {
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        resource: AUTH0_API,
        local: true,
      },
    };
    timeline.line(
      `datarhei Core: embedded reference server at ${server.url} (access tokens live ${EMBEDDED.coreAccessTtlSec} s), local OpenID provider at ${idp.issuer}`,
    );
  }
  return ctx;
}

/** The closing table. */
export function summaryTable(summary: TourSummary): string {
  return textTable(
    ['#', 'step', 'result', 'requests', 'failed', 'logins', 'refreshes', 'max auth calls / window', 'time'],
    summary.steps.map((s, i) => [
      String(i + 1),
      s.title,
      s.status === 'ok' ? 'ok' : s.status === 'failed' ? 'FAILED' : 'skipped',
      s.status === 'skipped' ? '' : String(s.requests),
      s.status === 'skipped' ? '' : String(s.failed),
      s.status === 'skipped' ? '' : String(s.logins),
      s.status === 'skipped' ? '' : String(s.refreshes),
      s.maxAuthCallsInWindow !== undefined ? `${s.maxAuthCallsInWindow} (limit 20)` : '',
      s.status === 'skipped' ? '' : `${(s.ms / 1000).toFixed(1)} s`,
    ]),
  );
}
