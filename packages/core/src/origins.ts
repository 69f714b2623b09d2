import { ConfigurationError } from './errors.js';

/**
 * Decides which URLs may carry a token: only those whose origin (scheme, host and port) is one the
 * strategy's tokens were issued for, and never the strategy's own auth endpoints (a refresh call must
 * not carry the access token, and a 401 there is not a reason to refresh).
 *
 * @example
 * const policy = new OriginPolicy(['https://api.acme.test'], ['https://api.acme.test/oauth']);
 * policy.mayAuthorize('https://api.acme.test/orders'); // true
 * policy.mayAuthorize('https://api.acme.test/oauth/token'); // false: an auth endpoint
 * policy.mayAuthorize('https://cdn.example.com/x'); // false: another origin
 */
export class OriginPolicy {
  readonly #origins: Set<string>;
  readonly #authEndpoints: { origin: string; path: string }[];

  constructor(origins: readonly string[], authEndpoints: readonly string[]) {
    this.#origins = new Set(origins.map(originOf).filter((o): o is string => o !== undefined));
    this.#authEndpoints = authEndpoints
      .map((u) => parse(u))
      .filter((u): u is URL => u !== undefined)
      .map((u) => ({ origin: u.origin, path: u.pathname }));
  }

  // Adapters ask on every request, mostly for the same few URLs: remember the answer per absolute
  // URL string (bounded), per list of extra origins. A list's entries are remembered with its
  // decisions and compared on each call (a few string comparisons), so that a list changed in place
  // (an origin removed) is never answered from decisions made for its old contents.
  readonly #decisions = new Map<string, boolean>();
  readonly #decisionsWithExtra = new WeakMap<
    readonly string[],
    { entries: readonly string[]; decisions: Map<string, boolean> }
  >();

  /**
   * Whether a request to `url` may carry the token: its origin is listed (or in `extraOrigins`) and it
   * is not an auth endpoint. Pass the same `extraOrigins` array each time to benefit from the cache
   * (changing its entries in place is fine: the decisions are then made afresh).
   */
  mayAuthorize(url: string | URL, extraOrigins?: readonly string[]): boolean {
    if (typeof url !== 'string') return this.#decide(url, extraOrigins);
    let cache = this.#decisions;
    if (extraOrigins) {
      const found = this.#decisionsWithExtra.get(extraOrigins);
      if (found && sameEntries(found.entries, extraOrigins)) cache = found.decisions;
      else this.#decisionsWithExtra.set(extraOrigins, { entries: [...extraOrigins], decisions: (cache = new Map()) });
    }
    const known = cache.get(url);
    if (known !== undefined) return known;
    const decision = this.#decide(url, extraOrigins);
    if (cache.size >= 1024) cache.clear();
    cache.set(url, decision);
    return decision;
  }

  #decide(url: string | URL, extraOrigins: readonly string[] | undefined): boolean {
    const u = parse(url);
    if (!u) return false;
    if (!this.#origins.has(u.origin) && !(extraOrigins && extraOrigins.some((o) => originOf(o) === u.origin)))
      return false;
    return !this.#matchesAuthEndpoint(u);
  }

  /** Whether `url` is one of the auth endpoints or below one (`/oauth` covers `/oauth/token`). */
  isAuthEndpoint(url: string | URL): boolean {
    const u = parse(url);
    return u !== undefined && this.#matchesAuthEndpoint(u);
  }

  #matchesAuthEndpoint(u: URL): boolean {
    for (const e of this.#authEndpoints)
      if (
        e.origin === u.origin &&
        (u.pathname === e.path || u.pathname.startsWith(e.path.endsWith('/') ? e.path : `${e.path}/`))
      )
        return true;
    return false;
  }
}

/**
 * `https://Example.com:443/x` → `https://example.com`; `undefined` for what is not an absolute URL.
 *
 * @example
 * originOf('https://Example.com:443/x'); // 'https://example.com'
 * originOf('/relative/path'); // undefined
 */
export function originOf(url: string | URL): string | undefined {
  const u = parse(url);
  return u && u.origin !== 'null' ? u.origin : undefined;
}

/**
 * Whether two lists hold the same strings in the same order (a list of origins changed in place?).
 *
 * @example
 * sameEntries(['https://a.test'], ['https://a.test']); // true
 */
export function sameEntries(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function parse(url: string | URL): URL | undefined {
  if (url instanceof URL) return url;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * A strategy's base URL, parsed and checked: absolute, http(s), without credentials. Throws
 * `CONFIGURATION` naming `strategy` otherwise.
 *
 * @example
 * const url = httpBaseUrl('https://tenant.example.com/api', 'openloyalty-admin'); // URL
 */
export function httpBaseUrl(baseUrl: unknown, strategy: string): URL {
  let url: URL;
  try {
    url = new URL(String(baseUrl));
  } catch {
    throw new ConfigurationError(`${strategy}: baseUrl must be an absolute http(s) URL`, { strategy });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigurationError(`${strategy}: baseUrl must use http or https`, { strategy });
  // Credentials in the URL would travel with every request and show up in logs.
  if (url.username || url.password)
    throw new ConfigurationError(`${strategy}: baseUrl must not contain credentials`, { strategy });
  return url;
}
