// Issue 11, item 4: a server (or a transport) that echoes the request back must not get any of its
// credentials into an error, a log call or an event: not cut in half by a length limit, not in the
// encoded form the request used (JSON-escaped, percent- or form-encoded, base64 in Basic auth), not
// when it is too short to scrub, and not because it was sent in a header with an unusual name.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthHttp,
  createAuthSession,
  redact,
  type AuthError,
  type AuthEventName,
  type AuthRequest,
  type FetchLike,
} from '@auth/core';
import { listen, readBody, sendHtml, sendJson, type RunningServer } from '@auth/testing';
import { capturingLogger, dump, encodings, expectNoLeak, failure } from './leaks.js';

const rnd = () => randomBytes(9).toString('base64url');
// Quotes, backslashes, slashes, plus, equals, space and non-ASCII: every encoding differs from the raw text.
const PASSWORD = `pa"ss\\w0rd/+= é-${rnd()}`;
// A base64 client secret, as providers issue them.
const CLIENT_SECRET = `q+Xz/9${randomBytes(18).toString('base64')}==`;
const NESTED = `nested "${rnd()}" \\ secret`;
const API_KEY = `ak-${rnd()}`;
const HEADER_SECRET = `xcs/${rnd()}+"=`;
const BASIC_USER = 'client-id-1';
const BASIC_PASS = `bp:${rnd()}+/ =`;
const BASIC_TOKEN = Buffer.from(`${BASIC_USER}:${BASIC_PASS}`).toString('base64');
const QUERY_SECRET = `qs-${rnd()}/+ x`;
/** A number in a JSON body is a credential too (a PIN). */
const PIN = 987_654_321;
/** Known to the server, never sent: only the strategy's `secrets` option can keep it out. */
const SERVER_KNOWN = `sk-${rnd()}`;
const ALL = [
  String(PIN),
  PASSWORD,
  CLIENT_SECRET,
  NESTED,
  API_KEY,
  HEADER_SECRET,
  BASIC_PASS,
  BASIC_TOKEN,
  QUERY_SECRET,
  SERVER_KNOWN,
];

const PARTS = ['body', 'json', 'uri', 'form', 'headers', 'basic', 'url', 'known'] as const;
type Part = (typeof PARTS)[number];

function strings(v: unknown, into: string[] = []): string[] {
  if (typeof v === 'string') into.push(v);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, into);
  return into;
}

/** What a badly behaved server says back: the request, raw and re-encoded in several ways. */
function echoParts(req: IncomingMessage, body: string): Record<Part, string> {
  const type = req.headers['content-type'] ?? '';
  const fields = type.includes('json')
    ? strings(JSON.parse(body))
    : type.includes('urlencoded')
      ? [...new URLSearchParams(body).values()]
      : [];
  for (const v of Object.values(req.headers)) if (typeof v === 'string') fields.push(v);
  const auth = req.headers.authorization ?? '';
  return {
    body: `body=${body}`,
    json: `fields=${JSON.stringify(fields)}`,
    uri: `uri=${fields.map(encodeURIComponent).join(',')}`,
    form: `form=${new URLSearchParams(fields.map((f, i) => [String(i), f])).toString()}`,
    headers: `headers=${JSON.stringify(req.headers)}`,
    basic: `basic=${auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString() : ''}`,
    url: `url=${req.url}`,
    known: `expected key ${SERVER_KNOWN}`,
  };
}

let server: RunningServer;
beforeAll(async () => {
  // /echo/<status>/<json|html>/<pad>/<part>: the echo of <part> starts after <pad> characters, so
  // that a secret in it straddles the 200-character cut for some pads; every other part follows.
  server = await listen(async (req, res) => {
    const [, , status, kind, pad, lead] = new URL(req.url ?? '/', 'http://x').pathname.split('/');
    const body = await readBody(req);
    if (req.url?.startsWith('/short/')) {
      const text = req.url.includes('mention')
        ? `Bad credentials for ${String((JSON.parse(body) as { username: string }).username)}; pin ${String(req.headers['x-pin'])}`
        : 'Bad credentials';
      return sendJson(res, 401, { message: text });
    }
    const parts = echoParts(req, body);
    const first = parts[lead as Part];
    const rest = Object.values(parts)
      .filter((p) => p !== first)
      .join(' | ');
    const text = `${'x'.repeat(Number(pad))}${first} | ${rest}`;
    if (kind === 'html') return sendHtml(res, Number(status), `<html><body><pre>${text}</pre></body></html>`);
    sendJson(res, Number(status), { message: text, error: rest, details: [first, rest] });
  });
});
afterAll(() => server.close());

const basic = `Basic ${BASIC_TOKEN}`;
function request(path: string, body: 'json' | 'form', operation: AuthRequest['operation'] = 'login'): AuthRequest {
  const url = `${server.url}${path}?api_key=${encodeURIComponent(QUERY_SECRET)}`;
  const headers = { 'x-api-key': API_KEY, 'X-Client-Secret': HEADER_SECRET, authorization: basic };
  const secrets = [SERVER_KNOWN];
  if (body === 'json')
    return {
      operation,
      url,
      headers,
      secrets,
      json: { username: 'alice-user', password: PASSWORD, nested: { list: [NESTED, PIN] } },
    };
  return {
    operation,
    url,
    headers,
    secrets,
    form: { client_id: BASIC_USER, client_secret: CLIENT_SECRET, grant_type: 'client_credentials' },
  };
}

const plainFetch: FetchLike = (input, init) => fetch(input, init);
const http = (fetchLike: FetchLike = plainFetch, timeoutMs = 5_000) =>
  createAuthHttp({ fetch: fetchLike, timeoutMs, strategy: 'echo', now: Date.now });

/** Every view of the error the issue lists, plus the deep dump. */
function views(e: AuthError): string {
  return [
    e.message,
    JSON.stringify(e.toJSON()),
    JSON.stringify(e),
    String(e),
    dump(e),
    dump((e as { cause?: unknown }).cause),
  ].join('\n');
}

describe('the echo server really echoes every secret in every encoding (the tests below are not vacuous)', () => {
  it.each(['json', 'form'] as const)('%s body', async (body) => {
    const req = request('/echo/401/json/0/body', body);
    const res = await fetch(req.url, {
      method: 'POST',
      headers: {
        ...req.headers,
        'content-type': body === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
      },
      body: body === 'json' ? JSON.stringify(req.json) : new URLSearchParams(req.form).toString(),
    });
    const text = ((await res.json()) as { message: string }).message;
    const sent = body === 'json' ? [PASSWORD, NESTED] : [CLIENT_SECRET];
    for (const s of [...sent, API_KEY, HEADER_SECRET, BASIC_PASS, QUERY_SECRET, SERVER_KNOWN])
      expect(() => expectNoLeak(text, [s])).toThrow();
    // the encoded forms, not only the raw one
    if (body === 'json') expect(text).toContain(JSON.stringify(PASSWORD).slice(1, -1));
    else expect(text).toContain(new URLSearchParams({ v: CLIENT_SECRET }).toString().slice(2));
    expect(text).toContain(encodeURIComponent(QUERY_SECRET));
    expect(text).toContain(BASIC_TOKEN);
  });
});

describe('createAuthHttp scrubs every credential of the request from server text (issue 11, item 4)', () => {
  const pads = Array.from({ length: 12 }, (_, i) => 140 + i * 5);

  it.each([
    [401, 'login', 'CREDENTIALS_REJECTED'],
    [403, 'login', 'CREDENTIALS_REJECTED'],
    [400, 'refresh', 'REFRESH_REJECTED'],
    [404, 'login', 'CONFIGURATION'],
    [500, 'login', 'SERVER_ERROR'],
    [503, 'refresh', 'SERVER_ERROR'],
    [429, 'login', 'RATE_LIMITED'],
  ] as const)(
    'HTTP %i on %s → %s: JSON and HTML, JSON and form bodies, the secret before, across and after the old 200-character cut',
    async (status, operation, code) => {
      let withText = 0;
      for (const kind of ['json', 'html']) {
        for (const body of ['json', 'form'] as const) {
          for (const part of PARTS) {
            for (const pad of kind === 'json' ? pads : [0]) {
              const e = await failure(http()(request(`/echo/${status}/${kind}/${pad}/${part}`, body, operation)));
              expect(e.code).toBe(code);
              expect(e.status).toBe(status);
              expectNoLeak(views(e), ALL, `${status} ${kind} ${body} ${part} pad ${pad}`);
              if (e.message.includes('xxxxxxxx')) withText += 1;
              expect(e.message).not.toContain('withheld');
            }
          }
        }
      }
      // Server text still reaches the message where the status carries it (all but 429).
      if (status !== 429) expect(withText).toBeGreaterThan(0);
    },
  );

  it('a strategy marks values the request did not carry as secret with `secrets`', async () => {
    const req = request('/echo/401/json/0/known', 'json');
    const without = await failure(http()({ ...req, secrets: undefined }));
    expect(without.message).toContain(SERVER_KNOWN);
    const marked = await failure(http()(req));
    expect(marked.message).not.toContain(SERVER_KNOWN);
    expect(marked.message).toContain('expected key [redacted]');
  });

  it('a transport that fails quoting the answer or the request: the message and the cause chain are scrubbed', async () => {
    const quoting: FetchLike = async (input, init) => {
      const text = await (await fetch(input, init)).text();
      throw new Error(`proxy error: upstream answered ${text}`);
    };
    const nested: FetchLike = async (input, init) => {
      const text = await (await fetch(input, init)).text();
      throw new TypeError('fetch failed', { cause: new Error(`socket closed after ${text}`) });
    };
    const hanging: FetchLike = (_input, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () =>
          reject(new Error(`aborted while sending ${String(init.body)} with ${JSON.stringify(init.headers)}`)),
        ),
      );
    for (const body of ['json', 'form'] as const) {
      for (const part of PARTS) {
        for (const pad of [0, 150, 185, 195]) {
          for (const transport of [quoting, nested]) {
            const e = await failure(http(transport)(request(`/echo/401/json/${pad}/${part}`, body)));
            expect(e.code).toBe('NETWORK');
            expectNoLeak(views(e), ALL, `network ${body} ${part} ${pad}`);
          }
        }
      }
      const t = await failure(http(hanging, 50)(request('/echo/401/json/0/body', body)));
      expect(t.code).toBe('TIMEOUT');
      expectNoLeak(views(t), ALL, `timeout ${body}`);
    }
  });

  it('through a session: errors, every logger call and every event stay free of the secrets', async () => {
    const { calls, logger } = capturingLogger();
    const events: unknown[] = [];
    const names: AuthEventName[] = ['login', 'refresh', 'tokens', 'failure', 'rate-limited', 'rejected', 'logout'];
    const on = Object.fromEntries(names.map((n) => [n, (e: unknown) => events.push({ n, e })]));
    for (const [status, body, part, pad] of [
      [500, 'json', 'body', 150],
      [500, 'form', 'body', 170],
      [429, 'form', 'form', 150],
      [401, 'json', 'headers', 160],
      [401, 'json', 'json', 170],
      [400, 'form', 'uri', 180],
      [503, 'json', 'basic', 185],
    ] as const) {
      const session = createAuthSession(
        {
          name: 'echo',
          origins: [server.url],
          login: ({ http: h }) =>
            h(request(`/echo/${status}/json/${pad}/${part}`, body)).then(() => ({ accessToken: 'never' })),
        },
        { logger, on, retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2, rateLimitedFallbackMs: 1 } },
      );
      try {
        const e = await failure(session.getToken());
        expect(e.status).toBe(status);
        expectNoLeak(views(e), ALL, `session ${status}`);
      } finally {
        session.close();
      }
    }
    expect(calls.length).toBeGreaterThan(0);
    expect(events.length).toBeGreaterThan(0);
    expectNoLeak(dump(calls), ALL, 'logger calls');
    expectNoLeak(dump(events), ALL, 'events');
  });
});

describe('secrets too short to scrub (issue 11, item 4c)', () => {
  it('server text that could contain a short credential is left out, and the message says so', async () => {
    const req: AuthRequest = {
      operation: 'login',
      url: `${server.url}/short/mention`,
      json: { username: 'zq', password: PASSWORD },
      headers: { 'x-pin': '7k' },
    };
    const e = await failure(http()(req));
    expect(e.code).toBe('CREDENTIALS_REJECTED');
    for (const view of [e.message, JSON.stringify(e), String(e)]) {
      expect(view).not.toContain('zq');
      expect(view).not.toContain('7k');
      expect(view).not.toContain('Bad credentials for');
    }
    expect(e.message).toContain('withheld');
  });

  it('server text that cannot contain it is kept', async () => {
    const e = await failure(
      http()({
        operation: 'login',
        url: `${server.url}/short/plain`,
        json: { username: 'zq', password: PASSWORD },
        headers: { 'x-pin': '7k' },
      }),
    );
    expect(e.message).toContain('Bad credentials');
    expect(e.message).not.toContain('withheld');
  });

  it('redact() itself: encoded forms are replaced, a short secret withholds the whole text', () => {
    for (const form of encodings(PASSWORD, { base64: false }))
      expect(redact(`said ${form} twice: ${form}.`, [PASSWORD])).toBe('said [redacted] twice: [redacted].');
    expect(redact('user ab is unknown', ['ab'])).not.toContain('ab');
    expect(redact('user ab is unknown', ['ab'])).toContain('withheld');
    expect(redact('no such user', ['ab', undefined, ''])).toBe('no such user');
  });
});
