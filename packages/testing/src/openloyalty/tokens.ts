import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';

/** Who a token belongs to. Admins are global; members belong to one store. */
export interface Principal {
  kind: 'admin' | 'member';
  username: string;
  id: string;
  roles: string[];
  /** Store code, for members. */
  store?: string | undefined;
}

interface AccessRecord {
  principal: Principal;
  revoked: boolean;
}

interface RefreshRecord {
  principal: Principal;
  expiresAt: number;
}

export type VerifyResult = { ok: true; principal: Principal } | { ok: false; reason: 'expired' | 'invalid' };

/**
 * Issues and checks the server's tokens: RS256 access JWTs signed with a key generated at start, and
 * opaque single-use refresh tokens (as the gesdinet bundle OpenLoyalty uses).
 */
export class TokenIssuer {
  readonly #access = new Map<string, AccessRecord>();
  readonly #refresh = new Map<string, RefreshRecord>();

  private constructor(
    readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
    readonly accessTtlSec: number,
    readonly refreshTtlSec: number,
    readonly now: () => number,
  ) {}

  static async create(accessTtlSec: number, refreshTtlSec: number, now: () => number): Promise<TokenIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    return new TokenIssuer(privateKey, publicKey, accessTtlSec, refreshTtlSec, now);
  }

  async issue(
    principal: Principal,
    opts: { accessTtlSec?: number; withRefresh?: boolean } = {},
  ): Promise<{ token: string; refresh_token?: string }> {
    const iat = Math.floor(this.now() / 1000);
    const ttl = opts.accessTtlSec ?? this.accessTtlSec;
    const jti = randomUUID();
    const token = await new SignJWT({ username: principal.username, roles: principal.roles, id: principal.id })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(jti)
      .sign(this.privateKey);
    this.#access.set(jti, { principal, revoked: false });
    if (opts.withRefresh === false) return { token };
    const refresh = randomBytes(64).toString('hex');
    this.#refresh.set(refresh, { principal, expiresAt: this.now() + this.refreshTtlSec * 1000 });
    return { token, refresh_token: refresh };
  }

  async verify(token: string): Promise<VerifyResult> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: ['RS256'],
        currentDate: new Date(this.now()),
      });
      const record = typeof payload.jti === 'string' ? this.#access.get(payload.jti) : undefined;
      if (!record || record.revoked) return { ok: false, reason: 'invalid' };
      return { ok: true, principal: record.principal };
    } catch (error) {
      return { ok: false, reason: error instanceof joseErrors.JWTExpired ? 'expired' : 'invalid' };
    }
  }

  /** Consumes a refresh token (single use). `undefined` when unknown, expired or of another kind/store. */
  consumeRefresh(
    refreshToken: string,
    match: (p: Principal) => boolean,
  ): { principal: Principal } | { error: 'not-found' | 'expired' } {
    const record = this.#refresh.get(refreshToken);
    if (!record || !match(record.principal)) return { error: 'not-found' };
    this.#refresh.delete(refreshToken);
    if (record.expiresAt <= this.now()) return { error: 'expired' };
    return { principal: record.principal };
  }

  /** Whose refresh token this is, without consuming it. */
  ownerOfRefresh(refreshToken: string): Principal | undefined {
    return this.#refresh.get(refreshToken)?.principal;
  }

  /** Kills every refresh token of a principal (or of every user called `username`, or all). Returns how many. */
  dropRefreshTokens(match: (p: Principal) => boolean): number {
    let n = 0;
    for (const [token, record] of this.#refresh) {
      if (match(record.principal)) {
        this.#refresh.delete(token);
        n += 1;
      }
    }
    return n;
  }

  /** Marks every access token issued so far to matching principals as invalid. Returns how many. */
  revokeAccess(match: (p: Principal) => boolean): number {
    let n = 0;
    for (const record of this.#access.values()) {
      if (!record.revoked && match(record.principal)) {
        record.revoked = true;
        n += 1;
      }
    }
    return n;
  }

  liveRefreshTokens(match: (p: Principal) => boolean): number {
    const now = this.now();
    let n = 0;
    for (const record of this.#refresh.values()) if (record.expiresAt > now && match(record.principal)) n += 1;
    return n;
  }
}
