// oidc-provider 9 ships no types: the little of its API the test IdP uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Client {
    clientId: string;
  }
  interface Grant {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }
  interface RefreshToken {
    save(): Promise<string>;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    Client: { find(id: string): Promise<Client | undefined> };
    Grant: new (init: { accountId: string; clientId: string }) => Grant;
    RefreshToken: new (init: Record<string, unknown>) => RefreshToken;
  }
  export const errors: { InvalidTarget: new (description?: string) => Error };
}
