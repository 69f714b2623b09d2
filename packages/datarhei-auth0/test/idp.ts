import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, type RunningServer } from '@auth/testing';
import Provider, { errors } from 'oidc-provider';

export const API = 'https://core.example.test/api';
export const CLIENT_ID = 'core-machine';
export const CLIENT_SECRET = 'cs-7f3a9d1e5b2c4a6f8e0d1c3b5a7f9e2d';
export const INTRUDER_ID = 'intruder-machine';
export const INTRUDER_SECRET = 'cs-intruder-0a1b2c3d4e5f6a7b8c9d';

/**
 * A real OpenID provider (`oidc-provider`) on 127.0.0.1 standing in for Auth0: client credentials
 * and refresh-token grants, RS256 JWT access tokens for the {@link API} audience, the JWKS at
 * `/.well-known/jwks.json` as on Auth0, and an issuer with Auth0's trailing slash.
 */
export interface Idp {
  readonly issuer: string;
  readonly provider: Provider;
  /** Token endpoint calls seen. */
  tokenRequests: number;
  /** Discovery document fetches seen. */
  discoveryRequests: number;
  /** Stops answering (connections refused) until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** A refresh token for `accountId`, as if that user had signed in in another app. */
  refreshTokenFor(accountId: string): Promise<string>;
  close(): Promise<void>;
}

export async function startIdp(opts: { accessTokenTtl?: number } = {}): Promise<Idp> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const app: { callback?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const idp = { tokenRequests: 0, discoveryRequests: 0 } as Idp;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && req.url?.startsWith('/token')) idp.tokenRequests += 1;
    if (req.url?.startsWith('/.well-known/openid-configuration')) idp.discoveryRequests += 1;
    app.callback!(req, res);
  };
  let server: RunningServer = await listen(handler);
  const port = server.port;
  const issuer = `${server.url}/`;
  const provider = new Provider(issuer, {
    jwks: { keys: [jwk] },
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
        redirect_uris: ['https://app.example.test/cb'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: INTRUDER_ID,
        client_secret: INTRUDER_SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    routes: { jwks: '/.well-known/jwks.json' },
    scopes: ['openid', 'offline_access', 'read'],
    rotateRefreshToken: () => true,
    ttl: { AccessToken: 3_600, ClientCredentials: 3_600, IdToken: 3_600, Grant: 86_400, RefreshToken: 86_400 },
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== API) throw new errors.InvalidTarget();
          return {
            scope: 'read',
            audience: API,
            accessTokenTTL: opts.accessTokenTtl ?? 3_600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  app.callback = provider.callback();
  Object.assign(idp, {
    issuer,
    provider,
    async stop() {
      await server.close();
    },
    async start() {
      server = await listen(handler, { port });
    },
    async refreshTokenFor(accountId: string) {
      const client = await provider.Client.find(CLIENT_ID);
      const grant = new provider.Grant({ accountId, clientId: CLIENT_ID });
      grant.addOIDCScope('openid offline_access');
      grant.addResourceScope(API, 'read');
      const grantId = await grant.save();
      const token = new provider.RefreshToken({
        accountId,
        client: client!,
        grantId,
        scope: 'openid offline_access',
        gty: 'authorization_code',
        resource: API,
      });
      return token.save();
    },
    close: () => server.close(),
  });
  return idp;
}
