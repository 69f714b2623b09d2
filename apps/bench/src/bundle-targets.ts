// What a browser app ships, entry by entry, and the budgets CI holds ours to. Read by the bench's
// `bundles` section (src/bundle-size.ts) and by the test that fails the build when a bundle grows
// past its budget (test/bundle-size.test.ts). Adding a package to a row, or a row, is one line.

/** One bundle: a small entry importing what an app would use, built for the browser. */
export interface BundleEntry {
  /** The row's name in the table. */
  name: string;
  /** `[module, exported names]`: the entry re-exports these, so everything they reach is kept. */
  imports: readonly (readonly [string, readonly string[]])[];
  /** Modules the app ships anyway and that are therefore not counted (axios). */
  external?: readonly string[];
  /** Whether this is one of ours (held to `budgetGzip`) or a peer's (measured for comparison). */
  ours: boolean;
  /** Largest min+gzip size allowed, in bytes (ours only). */
  budgetGzip?: number;
  /**
   * A row whose packages may not exist yet (`@auth/browser-store` before it lands): skipped with a
   * note instead of failing, until it resolves.
   */
  optional?: boolean;
}

const core = ['@auth/core', ['createAuthSession']] as const;
const member = ['@auth/openloyalty-member', ['openLoyaltyMember']] as const;
const fetchAdapter = ['@auth/fetch-adapter', ['createAuthFetch']] as const;
const axiosAdapter = ['@auth/axios-adapter', ['attachAuth']] as const;
const browserStore = ['@auth/browser-store', ['browserTokenStore']] as const;

// Budgets: the measured min+gzip bytes plus about 5 % (12,677, 14,108 and 15,097 bytes when set).
export const bundleEntries: readonly BundleEntry[] = [
  {
    name: 'ours: core + fetch-adapter + openloyalty-member',
    imports: [core, fetchAdapter, member],
    ours: true,
    budgetGzip: 14_300,
  },
  {
    name: 'ours: core + axios-adapter + openloyalty-member (axios not counted)',
    imports: [core, axiosAdapter, member],
    external: ['axios'],
    ours: true,
    budgetGzip: 15_600,
  },
  {
    name: 'ours: core + fetch-adapter + openloyalty-member + browser-store',
    imports: [core, fetchAdapter, member, browserStore],
    ours: true,
    budgetGzip: 16_900,
  },
  {
    name: '@badgateway/oauth2-client (OAuth2Client + OAuth2Fetch)',
    imports: [['@badgateway/oauth2-client', ['OAuth2Client', 'OAuth2Fetch']]],
    ours: false,
  },
  {
    name: 'axios-jwt (axios not counted)',
    imports: [['axios-jwt', ['applyAuthTokenInterceptor', 'setAuthTokens', 'clearAuthTokens', 'isLoggedIn']]],
    external: ['axios'],
    ours: false,
  },
  {
    name: 'axios-auth-refresh (axios not counted)',
    imports: [['axios-auth-refresh', ['createAuthRefresh']]],
    external: ['axios'],
    ours: false,
  },
];
