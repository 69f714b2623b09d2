/**
 * What a strategy returns from `login` and `refresh`. Only `accessToken` is required; expiries are
 * read from the JWT when the strategy does not give them. Opaque (non-JWT) tokens have no expiry and
 * are renewed only when the server rejects them.
 *
 * @example
 * const tokens: TokenSet = { accessToken: body.access_token, refreshToken: body.refresh_token, expiresAt: Date.now() + body.expires_in * 1000 };
 */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string | undefined;
  /** When the access token stops working, in ms since the epoch on the local clock. */
  expiresAt?: number | undefined;
  /** When the refresh token stops working, in ms since the epoch on the local clock. */
  refreshExpiresAt?: number | undefined;
  /** When the access token was issued, local clock (used to size the refresh-ahead window). */
  issuedAt?: number | undefined;
  /** Strategy-specific data that must survive export/import (never logged). */
  extra?: Record<string, unknown> | undefined;
}

/**
 * What {@link readJwtTimes} found in a JWT; both fields absent for an opaque token.
 *
 * @example
 * const { expiresAt = Number.POSITIVE_INFINITY }: JwtTimes = readJwtTimes(accessToken, Date.now());
 */
export interface JwtTimes {
  /** Absolute expiry, local clock, ms. */
  expiresAt?: number;
  /** Issue time, local clock, ms. */
  issuedAt?: number;
}

/**
 * Reads a JWT's lifetime without checking its signature (the client cannot; the server does).
 * Understands `exp`/`iat` and datarhei's `exi` (lifetime in seconds). When `iat` is present the
 * times are moved onto the local clock (`receivedAt`), so a client whose clock is off by minutes
 * still refreshes on time. Returns `{}` for opaque tokens and for JWTs without a usable expiry.
 *
 * @example
 * // a JWT with iat = 1000 and exp = 1600 (a 10-minute token), received now:
 * readJwtTimes(jwt, Date.now()); // { issuedAt: now, expiresAt: now + 600_000 }
 * readJwtTimes('opaque-token'); // {}
 */
export function readJwtTimes(token: string, receivedAt?: number): JwtTimes {
  const claims = jwtClaims(token);
  if (claims === undefined) return {};
  const exp = finite(claims.exp);
  const iat = finite(claims.iat);
  const exi = finite(claims.exi);
  const lifetime = exp !== undefined && iat !== undefined ? exp - iat : exi;
  if (receivedAt !== undefined && lifetime !== undefined && lifetime > 0 && (iat !== undefined || exp === undefined)) {
    return { issuedAt: receivedAt, expiresAt: receivedAt + lifetime * 1000 };
  }
  if (exp !== undefined) {
    return { expiresAt: exp * 1000, ...(iat !== undefined ? { issuedAt: iat * 1000 } : {}) };
  }
  return {};
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Fills in `expiresAt`/`issuedAt`/`refreshExpiresAt` from the tokens themselves where the strategy
 * left them out. Called by the session on every token set a strategy returns.
 *
 * @example
 * const tokens = completeTokenSet({ accessToken: jwt }, Date.now()); // expiresAt and issuedAt read from the JWT
 */
export function completeTokenSet(tokens: TokenSet, receivedAt: number): TokenSet {
  const out: TokenSet = { ...tokens };
  if (out.expiresAt === undefined) {
    const t = readJwtTimes(out.accessToken, receivedAt);
    out.expiresAt = t.expiresAt;
    out.issuedAt ??= t.issuedAt;
  }
  out.issuedAt ??= receivedAt;
  if (out.refreshToken !== undefined && out.refreshExpiresAt === undefined) {
    out.refreshExpiresAt = readJwtTimes(out.refreshToken, receivedAt).expiresAt;
  }
  return out;
}

/**
 * Options for when to refresh ahead of expiry.
 *
 * @example
 * createAuthSession(strategy, { refreshAhead: { ratio: 0.2, minMs: 10_000 } });
 */
export interface RefreshAheadOptions {
  /** Fraction of the token's lifetime to refresh ahead by. Default 0.1 (1 min of a 10-min token). */
  ratio?: number;
  /** Never refresh later than this many ms before expiry. Default 5 s. */
  minMs?: number;
  /** Never refresh earlier than this many ms before expiry. Default 5 min (of a 24 h token). */
  maxMs?: number;
}

/**
 * The moment a token set should be renewed: expiry minus a skew proportional to its lifetime,
 * clamped to [minMs, maxMs], and never before the token was issued. `Infinity` when the expiry is unknown.
 *
 * @example
 * renewAt({ accessToken: 't', issuedAt: 0, expiresAt: 600_000 }); // 540_000: 10 % of a 10-minute life ahead
 * renewAt({ accessToken: 'opaque' }); // Infinity
 */
export function renewAt(tokens: TokenSet, opts: RefreshAheadOptions = {}): number {
  if (tokens.expiresAt === undefined) return Number.POSITIVE_INFINITY;
  const ratio = opts.ratio ?? 0.1;
  const minMs = opts.minMs ?? 5_000;
  const maxMs = opts.maxMs ?? 300_000;
  const lifetime = tokens.issuedAt !== undefined ? Math.max(0, tokens.expiresAt - tokens.issuedAt) : maxMs * 10;
  const skew = Math.min(maxMs, Math.max(minMs, lifetime * ratio));
  // A token shorter-lived than the skew would be "due" the instant it arrives; use half its life instead.
  const effective = lifetime > 0 && skew >= lifetime ? lifetime / 2 : skew;
  return tokens.expiresAt - effective;
}

/**
 * The claims of a compact JWS (`header.payload.signature`) whose payload is a JSON object, read
 * without checking the signature; `undefined` for anything else. All a client needs of a JWT, in a
 * few lines rather than a JOSE library.
 */
function jwtClaims(token: unknown): Record<string, unknown> | undefined {
  if (typeof token !== 'string') return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const claims: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
