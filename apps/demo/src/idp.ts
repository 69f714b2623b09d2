import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from '@auth/testing';

/** The API audience the local provider issues tokens for (what Auth0 calls the API identifier). */
export const AUTH0_API = 'https://core.demo.test/api';
export const AUTH0_CLIENT_ID = 'core-demo-machine';

/**
 * A real OpenID provider (`oidc-provider`) on 127.0.0.1 standing in for Auth0: client credentials
 * grant, RS256 JWT access tokens for {@link AUTH0_API}, the JWKS at `/.well-known/jwks.json` and an
 * issuer with Auth0's trailing slash (set up as in `packages/datarhei-auth0/test/idp.ts`).
 */
export interface LocalIdp {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Token endpoint calls seen. */
  readonly tokenRequests: number;
  close(): Promise<void>;
}

/**
 * oidc-provider warns on stderr that Node 20 is not its preferred runtime and that its store is in
 * memory: both expected for a local stand-in. Those lines (only) are dropped while it runs.
 */
function quietProviderWarnings(): () => void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING')) return;
    warn(...args);
  };
  return () => {
    console.warn = warn;
  };
}

export async function startLocalIdp(): Promise<LocalIdp> {
  const restoreWarnings = quietProviderWarnings();
  const { default: Provider, errors } = await import('oidc-provider');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'demo-key-1', alg: 'RS256', use: 'sig' };
  const clientSecret = randomBytes(24).toString('hex');
  let tokenRequests = 0;
  const app: { callback?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server = await listen((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/token')) tokenRequests += 1;
    app.callback!(req, res);
  });
  const issuer = `${server.url}/`;
  const provider = new Provider(issuer, {
    jwks: { keys: [jwk] },
    clients: [
      {
        client_id: AUTH0_CLIENT_ID,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    routes: { jwks: '/.well-known/jwks.json' },
    scopes: ['openid', 'read'],
    ttl: { ClientCredentials: 3_600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUTH0_API,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== AUTH0_API) throw new errors.InvalidTarget();
          return {
            scope: 'read',
            audience: AUTH0_API,
            accessTokenTTL: 3_600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  app.callback = provider.callback();
  return {
    issuer,
    clientId: AUTH0_CLIENT_ID,
    clientSecret,
    get tokenRequests() {
      return tokenRequests;
    },
    async close() {
      restoreWarnings();
      await server.close();
    },
  };
}
