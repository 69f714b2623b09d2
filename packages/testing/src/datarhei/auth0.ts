import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';

/**
 * An Auth0 tenant Core accepts logins from (Core's `api.auth.auth0.tenants[]`).
 *
 * @example
 * const core = await createDatarheiServer({
 *   auth0Tenants: [{ issuer: 'https://my-tenant.eu.auth0.com/', users: ['abc123@clients'], audience: 'https://core/api' }],
 * });
 */
export interface DatarheiAuth0Tenant {
  /**
   * The tenant's issuer, compared exactly with the token's `iss` (Auth0: `https://<domain>/`, with the
   * trailing slash). The JWKS is fetched from `<issuer>/.well-known/jwks.json`.
   */
  issuer: string;
  /** Subjects (`sub`) allowed to log in; Auth0 machine clients are `<client id>@clients`. */
  users: string[];
  /** Shown in `GET /api`'s `auths`; Core does not compare it with the token's `aud`. */
  audience?: string;
  /** Shown in `GET /api`'s `auths`. */
  clientId?: string;
}

export type Auth0Verdict =
  { ok: true; sub: string } | { ok: false; reason: 'unknown-issuer' | 'invalid' | 'user-not-allowed' };

/** Validates Auth0 bearer tokens as Core does: RS256 against the tenant's JWKS, exact `iss`, `sub` on the list. */
export class Auth0Validator {
  readonly #tenants: { tenant: DatarheiAuth0Tenant; jwks: JWTVerifyGetKey }[];
  readonly #now: () => number;

  constructor(tenants: readonly DatarheiAuth0Tenant[], now: () => number) {
    this.#now = now;
    this.#tenants = tenants.map((tenant) => ({
      tenant,
      jwks: createRemoteJWKSet(
        new URL('.well-known/jwks.json', tenant.issuer.endsWith('/') ? tenant.issuer : `${tenant.issuer}/`),
      ),
    }));
  }

  async verify(token: string): Promise<Auth0Verdict> {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    const entry = this.#tenants.find((t) => t.tenant.issuer === iss);
    if (!entry) return { ok: false, reason: 'unknown-issuer' };
    try {
      const { payload } = await jwtVerify(token, entry.jwks, {
        algorithms: ['RS256'],
        issuer: entry.tenant.issuer,
        currentDate: new Date(this.#now()),
      });
      if (typeof payload.sub !== 'string' || !entry.tenant.users.includes(payload.sub))
        return { ok: false, reason: 'user-not-allowed' };
      return { ok: true, sub: payload.sub };
    } catch {
      return { ok: false, reason: 'invalid' };
    }
  }

  /** The `auths` entries `GET /api` lists for the tenants. */
  describe(): string[] {
    return this.#tenants.map(({ tenant }) => {
      const domain = new URL(tenant.issuer).host;
      return `auth0 domain=${domain} audience=${tenant.audience ?? ''} clientid=${tenant.clientId ?? ''}`;
    });
  }
}
