// Issue 11, item 4 for the Auth0 strategy: an identity provider whose error descriptions quote the
// token request (form-encoded, so a base64 client secret comes back as `q%2BXz%2F9…%3D%3D`), with the
// secret before, across and after the old 200-character cut.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createAuthSession, type AuthEventName } from '@auth/core';
import { listen, readBody, sendHtml, sendJson, type RunningServer } from '@auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datarheiAuth0 } from '../src/index.js';
import { capturingLogger, dump, expectNoLeak, failure } from '../../core/test/leaks.js';

const CLIENT_ID = 'echo-machine-client';
const CLIENT_SECRET = `q+Xz/9${randomBytes(24).toString('base64')}==`;
const REFRESH_TOKEN = `v1.rt/${randomBytes(18).toString('base64')}+"\\`;

const PARTS = ['body', 'json', 'uri', 'headers'] as const;
type Part = (typeof PARTS)[number];
/** What the token endpoint answers next. */
const mode = { status: 401, kind: 'json' as 'json' | 'html', pad: 0, part: 'body' as Part };

function echoParts(req: IncomingMessage, body: string): Record<Part, string> {
  const fields = [...new URLSearchParams(body).values()];
  return {
    body: `body=${body}`,
    json: `fields=${JSON.stringify(fields)}`,
    uri: `uri=${fields.map(encodeURIComponent).join(',')}`,
    headers: `headers=${JSON.stringify(req.headers)}`,
  };
}

let idp: RunningServer;
beforeAll(async () => {
  idp = await listen(async (req, res) => {
    const issuer = `${idp.url}/`;
    if (req.url === '/.well-known/openid-configuration') {
      return sendJson(res, 200, {
        issuer,
        token_endpoint: `${idp.url}/token`,
        jwks_uri: `${idp.url}/jwks`,
        token_endpoint_auth_methods_supported: ['client_secret_post'],
      });
    }
    const parts = echoParts(req, await readBody(req));
    const first = parts[mode.part];
    const text = `${'x'.repeat(mode.pad)}${first} | ${Object.values(parts)
      .filter((p) => p !== first)
      .join(' | ')}`;
    if (mode.kind === 'html') return sendHtml(res, mode.status, `<html><body>${text}</body></html>`);
    sendJson(res, mode.status, {
      error: mode.status === 401 ? 'invalid_client' : 'invalid_request',
      error_description: text,
    });
  });
});
afterAll(() => idp.close());

describe('datarheiAuth0 keeps the credentials of its token requests out of what it reports (issue 11, item 4)', () => {
  it.each(['clientCredentials', 'refreshTokenGrant'] as const)(
    '%s: 4xx and 5xx, JSON and HTML, every echo and cut position',
    async (grant) => {
      const { calls, logger } = capturingLogger();
      const events: unknown[] = [];
      const names: AuthEventName[] = ['login', 'refresh', 'tokens', 'failure', 'rate-limited', 'rejected', 'logout'];
      const on = Object.fromEntries(names.map((n) => [n, (e: unknown) => events.push({ n, e })]));
      const tenant = {
        issuer: `${idp.url}/`,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        audience: 'https://core.example.test/api',
        allowInsecureRequests: true,
      };
      // Core is never reached: the provider fails every token request.
      const options =
        grant === 'clientCredentials'
          ? { baseUrl: 'http://127.0.0.1:9', clientCredentials: tenant }
          : { baseUrl: 'http://127.0.0.1:9', refreshTokenGrant: { ...tenant, refreshToken: REFRESH_TOKEN } };
      let withText = 0;
      for (const [status, kind, code] of [
        [401, 'json', 'CREDENTIALS_REJECTED'],
        [400, 'json', 'CONFIGURATION'],
        [401, 'html', 'BAD_RESPONSE'],
        [500, 'json', 'SERVER_ERROR'],
        [502, 'html', 'SERVER_ERROR'],
      ] as const) {
        for (const part of PARTS) {
          for (const pad of kind === 'json' && status < 500 ? Array.from({ length: 25 }, (_, i) => i * 8) : [0]) {
            Object.assign(mode, { status, kind, part, pad });
            const session = createAuthSession(datarheiAuth0(options), { logger, on, retry: { retries: 0 } });
            try {
              const e = await failure(session.getToken());
              expect(e.code).toBe(code);
              expectNoLeak(
                [e.message, JSON.stringify(e), String(e), dump(e)].join('\n'),
                [CLIENT_SECRET, REFRESH_TOKEN],
                `${grant} ${status} ${kind} ${part} ${pad}`,
              );
              if (e.message.includes('xxxxxxxx')) withText += 1;
            } finally {
              session.close();
            }
          }
        }
      }
      expect(withText).toBeGreaterThan(0);
      expect(events.length).toBeGreaterThan(0);
      expectNoLeak(dump(calls), [CLIENT_SECRET, REFRESH_TOKEN], 'logger calls');
      expectNoLeak(dump(events), [CLIENT_SECRET, REFRESH_TOKEN], 'events');
    },
  );
});
