import axios, { isAxiosError, type AxiosAdapter, type AxiosInstance } from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import { applyAuthTokenInterceptor, setAuthTokens, type StorageType } from 'axios-jwt';
import { OAuth2Client, OAuth2Fetch, type OAuth2Token } from '@badgateway/oauth2-client';
import { createAuthSession, type AuthSession } from '@auth/core';
import { attachAuth } from '@auth/axios-adapter';
import { createAuthFetch } from '@auth/fetch-adapter';
import { openLoyaltyAdmin } from '@auth/openloyalty-admin';
import { openLoyaltyApiKey } from '@auth/openloyalty-api-key';
import { authAgent, gatedFetch, httpAgent, type FetchFn } from './transport.js';

/**
 * Every candidate, wired against an OpenLoyalty admin account the way its README recommends.
 *
 * Fairness rules (the same for everyone):
 * - one shared transport per client family (see transport.ts);
 * - each starts from the same seeded token pair (`seed`), or from nothing (first request logs in);
 * - each peer's refresh hook does what ours does: refresh with the (rotating) refresh token and, when
 *   the server rejects it (401), log in with the credentials. axios-auth-refresh and axios-jwt leave
 *   that hook to the application, so it is written here once, identically; @badgateway/oauth2-client
 *   falls back to its own `getNewToken` by design.
 */
export interface Account {
  baseUrl: string;
  username: string;
  password: string;
}

export interface Seed {
  accessToken: string;
  refreshToken: string;
}

export interface Client {
  readonly name: string;
  /** One authorized GET; resolves true for a 2xx answer, false for any other answer or a rejection. */
  get(path: string): Promise<boolean>;
  close(): void;
}

export interface ClientOptions {
  /** axios transport (default: real HTTP over the shared agent). */
  adapter?: AxiosAdapter;
  /** fetch transport (default: the gated global fetch). */
  fetch?: FetchFn;
  /** Extra options for our session (e.g. a rate limit override). */
  rateLimit?: { max: number; windowMs: number };
}

export type ClientFactory = (account: Account, seed: Seed | undefined, opts?: ClientOptions) => Client;

const LOGIN = '/api/admin/login_check';
const REFRESH = '/api/token/refresh';

function instance(account: Account, opts: ClientOptions | undefined): AxiosInstance {
  return axios.create({ baseURL: account.baseUrl, httpAgent, ...(opts?.adapter ? { adapter: opts.adapter } : {}) });
}

/** Plain axios for auth calls (the READMEs insist it is not the intercepted instance). */
function authAxios(account: Account): AxiosInstance {
  return axios.create({ baseURL: account.baseUrl, httpAgent: authAgent });
}

async function olLogin(auth: AxiosInstance, account: Account): Promise<Seed> {
  const { data } = await auth.post<{ token: string; refresh_token: string }>(LOGIN, {
    username: account.username,
    password: account.password,
  });
  return { accessToken: data.token, refreshToken: data.refresh_token };
}

/** Refresh, or log in when the refresh token is rejected (the fallback every client gets). */
async function olRenew(auth: AxiosInstance, account: Account, refreshToken: string | undefined): Promise<Seed> {
  if (refreshToken) {
    try {
      const { data } = await auth.post<{ token: string; refresh_token: string }>(REFRESH, {
        refresh_token: refreshToken,
      });
      return { accessToken: data.token, refreshToken: data.refresh_token };
    } catch (error) {
      if (!(isAxiosError(error) && error.response?.status === 401)) throw error;
    }
  }
  return olLogin(auth, account);
}

export function ourSession(account: Account, seed: Seed | undefined, opts?: ClientOptions): AuthSession {
  const strategy = openLoyaltyAdmin({
    baseUrl: account.baseUrl,
    username: account.username,
    password: account.password,
    ...(opts?.rateLimit ? { rateLimit: opts.rateLimit } : {}),
  });
  return createAuthSession(
    strategy,
    seed ? { initialTokens: { accessToken: seed.accessToken, refreshToken: seed.refreshToken } } : {},
  );
}

const ok = () => true;
const notOk = () => false;

export const rawAxios: ClientFactory = (account, seed, opts) => {
  const api = instance(account, opts);
  const header = `Bearer ${seed?.accessToken ?? ''}`;
  api.defaults.headers.common.Authorization = header;
  return { name: 'raw axios', get: (path) => api.get(path).then(ok, notOk), close() {} };
};

export const oursAxios: ClientFactory = (account, seed, opts) => {
  const api = instance(account, opts);
  const session = ourSession(account, seed, opts);
  attachAuth(api, session);
  return {
    name: 'axios + @auth/axios-adapter',
    get: (path) => api.get(path).then(ok, notOk),
    close: () => session.close(),
  };
};

export const axiosAuthRefresh: ClientFactory = (account, seed, opts) => {
  const api = instance(account, opts);
  const auth = authAxios(account);
  let tokens: Seed | undefined = seed && { ...seed };
  // README: "wrap your request logic in a function" so stalled requests pick up the new token.
  api.interceptors.request.use((request) => {
    if (tokens) request.headers.Authorization = `Bearer ${tokens.accessToken}`;
    return request;
  });
  createAuthRefresh(api, async (failedRequest: { response: { config: { headers: Record<string, string> } } }) => {
    tokens = await olRenew(auth, account, tokens?.refreshToken);
    failedRequest.response.config.headers.Authorization = `Bearer ${tokens.accessToken}`;
  });
  return { name: 'axios + axios-auth-refresh', get: (path) => api.get(path).then(ok, notOk), close() {} };
};

/**
 * axios-jwt keeps its storage in a module-level singleton: one axios-jwt client per process at a
 * time (the bench creates them one after the other).
 */
export const axiosJwt: ClientFactory = (account, seed, opts) => {
  const api = instance(account, opts);
  const auth = authAxios(account);
  const memory = new Map<string, string>();
  const storage: StorageType = {
    get: async (key) => memory.get(key) ?? null,
    set: async (key, value) => void memory.set(key, value),
    remove: async (key) => void memory.delete(key),
  };
  applyAuthTokenInterceptor(api, {
    getStorage: () => storage,
    requestRefresh: async (refreshToken) => {
      const next = await olRenew(auth, account, refreshToken);
      return { accessToken: next.accessToken, refreshToken: next.refreshToken };
    },
  });
  const ready = seed
    ? setAuthTokens({ accessToken: seed.accessToken, refreshToken: seed.refreshToken })
    : Promise.resolve();
  return { name: 'axios + axios-jwt', get: (path) => ready.then(() => api.get(path)).then(ok, notOk), close() {} };
};

function jwtExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: number;
    };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

function toOAuth2Token(seed: Seed): OAuth2Token {
  return { accessToken: seed.accessToken, refreshToken: seed.refreshToken, expiresAt: jwtExpiry(seed.accessToken) };
}

/**
 * OpenLoyalty is not an OAuth2 server: the client's refresh speaks its JSON refresh instead of the refresh_token grant.
 */
class OpenLoyaltyOAuth2Client extends OAuth2Client {
  constructor(
    private readonly account: Account,
    private readonly transport: FetchFn,
  ) {
    super({ clientId: 'bench', server: account.baseUrl });
  }

  override async refreshToken(token: OAuth2Token): Promise<OAuth2Token> {
    const res = await this.transport(`${this.account.baseUrl}${REFRESH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: token.refreshToken }),
    });
    const body = (await res.json()) as { token: string; refresh_token: string };
    if (!res.ok) throw new Error(`refresh failed: ${res.status}`);
    return toOAuth2Token({ accessToken: body.token, refreshToken: body.refresh_token });
  }

  async login(): Promise<OAuth2Token> {
    const res = await this.transport(`${this.account.baseUrl}${LOGIN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.account.username, password: this.account.password }),
    });
    const body = (await res.json()) as { token: string; refresh_token: string };
    if (!res.ok) throw new Error(`login failed: ${res.status}`);
    return toOAuth2Token({ accessToken: body.token, refreshToken: body.refresh_token });
  }
}

async function drained(res: Response): Promise<boolean> {
  await res.arrayBuffer();
  return res.ok;
}

export const rawFetch: ClientFactory = (account, seed, opts) => {
  const base = opts?.fetch ?? gatedFetch;
  const headers = { authorization: `Bearer ${seed?.accessToken ?? ''}` };
  return {
    name: 'raw fetch',
    get: (path) =>
      base(`${account.baseUrl}${path}`, { headers })
        .then(drained)
        .then((v) => v, notOk),
    close() {},
  };
};

/** Ours: `createAuthFetch` over `session`, as its README shows. */
function oursFetchWith(name: string, session: AuthSession, account: Account, opts: ClientOptions | undefined): Client {
  const authFetch = createAuthFetch(session, { fetch: opts?.fetch ?? gatedFetch });
  return {
    name,
    get: (path) =>
      authFetch(`${account.baseUrl}${path}`)
        .then(drained)
        .then((v) => v, notOk),
    close: () => session.close(),
  };
}

export const oursFetch: ClientFactory = (account, seed, opts) =>
  oursFetchWith('@auth/fetch-adapter', ourSession(account, seed, opts), account, opts);

/**
 * Ours with a strategy whose credential travels in a header of its own (`X-AUTH-TOKEN`), which fetch
 * keeps on every redirect: on Node the adapter sends with `redirect: 'manual'` and follows hops itself.
 * Not a peer: it shows what such a strategy costs next to raw fetch (in process only).
 */
export const oursFetchApiKey: ClientFactory = (account, _seed, opts) =>
  oursFetchWith(
    '@auth/fetch-adapter (X-AUTH-TOKEN)',
    createAuthSession(openLoyaltyApiKey({ baseUrl: account.baseUrl, apiKey: 'k'.repeat(40) })),
    account,
    opts,
  );

/**
 * The README's fetch wrapper. `OAuth2Fetch.fetch()` is `mw()(new Request(input, init), req => fetch(req))`
 * on the global fetch; the bench calls exactly that with the shared transport as `next`.
 */
export const badgateway: ClientFactory = (account, seed, opts) => {
  const base = opts?.fetch ?? gatedFetch;
  // Its auth calls use the plain global fetch, as our session's do: never queued behind the storm.
  const client = new OpenLoyaltyOAuth2Client(account, (input, init) => globalThis.fetch(input, init));
  const wrapper = new OAuth2Fetch({
    client,
    getNewToken: () => client.login(),
    ...(seed ? { getStoredToken: () => toOAuth2Token(seed) } : {}),
    // Its timer only fires a minute before expiry; off so that no 24-hour timer outlives a run.
    scheduleRefresh: false,
  });
  const mw = wrapper.mw();
  const next = (req: Request) => base(req);
  return {
    name: '@badgateway/oauth2-client OAuth2Fetch',
    get: (path) =>
      mw(new Request(`${account.baseUrl}${path}`), next)
        .then(drained)
        .then((v) => v, notOk),
    close() {},
  };
};

export const axiosClients: ClientFactory[] = [rawAxios, oursAxios, axiosAuthRefresh, axiosJwt];
export const fetchClients: ClientFactory[] = [rawFetch, oursFetch, badgateway];
