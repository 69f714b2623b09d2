import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

export type TokenUse = 'access' | 'refresh';

export interface CoreClaims {
  sub: string;
  usefor: TokenUse;
  jti: string;
  iat: number;
  exp: number;
  exi: number;
}

/** Issues and checks Core's HS256 tokens, and remembers what was revoked or force-expired. */
export class CoreTokens {
  readonly #key: Uint8Array;
  readonly #now: () => number;
  readonly #ttl: Record<TokenUse, number>;
  /** Access tokens issued so far (jti), so that they can all be revoked at once. */
  readonly #issuedAccess = new Set<string>();
  readonly #revokedAccess = new Set<string>();
  readonly #issuedRefresh = new Set<string>();
  readonly #expiredRefresh = new Set<string>();

  constructor(secret: string, now: () => number, ttlSeconds: Record<TokenUse, number>) {
    this.#key = new TextEncoder().encode(secret);
    this.#now = now;
    this.#ttl = ttlSeconds;
  }

  async issue(sub: string, usefor: TokenUse): Promise<string> {
    const iat = Math.floor(this.#now() / 1000);
    const exi = this.#ttl[usefor];
    const jti = randomUUID();
    (usefor === 'access' ? this.#issuedAccess : this.#issuedRefresh).add(jti);
    // Claim order as Core writes them (alphabetical, from Go's map encoding).
    return new SignJWT({ exi, exp: iat + exi, iat, iss: 'datarhei-core', jti, sub, usefor })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(this.#key);
  }

  /** The claims of a valid token of the given use, or `undefined` (expired, forged, wrong use, revoked). */
  async verify(token: string, usefor: TokenUse): Promise<CoreClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: 'datarhei-core',
        currentDate: new Date(this.#now()),
        clockTolerance: 0,
      });
      const claims = payload as unknown as CoreClaims;
      if (claims.usefor !== usefor || typeof claims.sub !== 'string') return undefined;
      if (usefor === 'access' && this.#revokedAccess.has(claims.jti)) return undefined;
      if (usefor === 'refresh' && this.#expiredRefresh.has(claims.jti)) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }

  /** Every access token issued so far stops working. Returns how many were revoked. */
  revokeAccessTokens(): number {
    const n = this.#issuedAccess.size;
    for (const jti of this.#issuedAccess) this.#revokedAccess.add(jti);
    this.#issuedAccess.clear();
    return n;
  }

  /** Every refresh token issued so far is treated as expired (as after Core's 24 hours). Returns how many. */
  expireRefreshTokens(): number {
    const n = this.#issuedRefresh.size;
    for (const jti of this.#issuedRefresh) this.#expiredRefresh.add(jti);
    this.#issuedRefresh.clear();
    return n;
  }
}
