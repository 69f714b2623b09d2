/** What a scrubbed secret is replaced with. */
export const REDACTED = '[redacted]';

/** Replaces the whole text when a secret is too short to scrub and the text may contain it. */
export const WITHHELD = '[server text withheld: a credential of the request is too short to redact safely]';

/**
 * Secrets shorter than this are not replaced inside a text: the gaps would give them away
 * (`alice` with `li` replaced reads `a[redacted]ce`) and they match ordinary words. A text that may
 * contain one is withheld as a whole instead.
 */
export const MIN_REDACTABLE_LENGTH = 4;

/**
 * Removes every known secret from a piece of text that might reach an error, a log line or an event
 * (a server that echoes the request back, say), in every form a request or an echo gives it: as is,
 * JSON-escaped (at any depth, `\uXXXX` and `\/` included), percent-encoded (either hex case, also
 * twice), form-encoded (`+` for a space) and as HTML character references. A text that may contain a
 * secret shorter than {@link MIN_REDACTABLE_LENGTH} characters is replaced as a whole by a notice
 * that it was withheld. Scrub before cutting a text short: a secret cut in half no longer matches.
 *
 * @example
 * redact('bad password hunter22 for alice', ['hunter22', undefined]); // 'bad password [redacted] for alice'
 * redact('{"password":"pa\\"ss"}', ['pa"ss']); // '{"password":"[redacted]"}'
 * redact('unknown user bo', ['bo']); // '[server text withheld: …]'
 */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  if (!text) return text;
  const long: string[] = [];
  const short: string[] = [];
  for (const s of new Set(secrets)) {
    if (typeof s !== 'string' || s === '') continue;
    (s.length >= MIN_REDACTABLE_LENGTH ? long : short).push(s);
  }
  let out = text;
  if (long.length > 0) {
    // Longest first: where one secret contains another, the whole of it is replaced.
    long.sort((a, b) => b.length - a.length);
    out = out.replace(new RegExp(long.map(secretPattern).join('|'), 'g'), REDACTED);
  }
  if (short.length > 0 && new RegExp(short.map(secretPattern).join('|')).test(out.split(REDACTED).join(' ')))
    return WITHHELD;
  return out;
}

/**
 * Header names whose values are never credentials; every other header a request carries is treated
 * as one (an API key in `X-Api-Key`, a signature, a tenant secret).
 */
const PUBLIC_HEADERS = new Set([
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'connection',
  'content-language',
  'content-length',
  'content-type',
  'pragma',
  'user-agent',
  'x-requested-with',
]);

/**
 * Collects the secrets of one request: every header value but the few public ones (with the
 * credential of `Scheme credential` on its own, and for `Basic` the decoded `user:password` and the
 * password), every value of its query string and userinfo, and every string or number in its body
 * (a JSON value, a `URLSearchParams`, a form-encoded or JSON string, `FormData`).
 *
 * @example
 * const secrets = requestSecrets(url, init); // in a custom fetch
 * throw new Error(redact(await res.text(), secrets).slice(0, 200));
 */
export function requestSecrets(
  url: string | URL | undefined,
  init: { headers?: HeadersInit | undefined; body?: unknown } = {},
  into: string[] = [],
): string[] {
  if (url !== undefined) urlSecrets(url, into);
  let type = '';
  if (init.headers !== undefined) {
    for (const [name, value] of new Headers(init.headers)) {
      headerSecrets(name, value, into);
      if (name === 'content-type') type = value;
    }
  }
  const body = init.body;
  if (typeof body === 'string') {
    if (type.includes('json')) {
      try {
        secretsIn(JSON.parse(body), into);
      } catch {
        // not JSON after all: the whole body below
      }
    } else if (type.includes('x-www-form-urlencoded')) {
      for (const v of new URLSearchParams(body).values()) into.push(v);
    }
    // An opaque body as a whole (bounded: each secret becomes part of a regular expression).
    if (body.length <= 8_192) into.push(body);
  } else if (body instanceof URLSearchParams) {
    for (const v of body.values()) into.push(v);
  } else if (typeof FormData !== 'undefined' && body instanceof FormData) {
    for (const v of body.values()) if (typeof v === 'string') into.push(v);
  }
  return into;
}

/**
 * A header's value, unless the header is public; `Scheme credential` also adds the credential, `Basic` its decoded
 * parts.
 */
export function headerSecrets(name: string, value: string, into: string[]): void {
  if (PUBLIC_HEADERS.has(name.toLowerCase())) return;
  into.push(value);
  const m = /^(\S+)\s+(\S.*)$/.exec(value.trim());
  if (!m) return;
  const [, scheme, credential] = m as unknown as [string, string, string];
  into.push(credential);
  if (scheme.toLowerCase() === 'basic') basicSecrets(credential, into);
}

/**
 * `base64(user:password)`: the unpadded form, the decoded pair and the password (as sent, and form-decoded as RFC 6749
 * sends client secrets).
 */
function basicSecrets(credential: string, into: string[]): void {
  into.push(credential.replace(/=+$/, ''));
  let binary: string;
  try {
    binary = atob(credential);
  } catch {
    return;
  }
  let text = binary;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    // not UTF-8: the Latin-1 reading is all there is
  }
  for (const pair of new Set([binary, text])) {
    into.push(pair);
    const colon = pair.indexOf(':');
    if (colon < 0) continue;
    const password = pair.slice(colon + 1);
    into.push(password);
    try {
      into.push(decodeURIComponent(password.replace(/\+/g, ' ')));
    } catch {
      // not percent-encoded
    }
  }
}

/** Query values and userinfo of a URL: servers echo the URL they were asked for. */
function urlSecrets(url: string | URL, into: string[]): void {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return;
  }
  for (const v of u.searchParams.values()) into.push(v);
  for (const part of [u.username, u.password]) {
    if (!part) continue;
    into.push(part);
    try {
      into.push(decodeURIComponent(part));
    } catch {
      // not percent-encoded
    }
  }
}

/** Collects string and number leaves of a JSON body; everything a strategy sends is treated as a secret. */
export function secretsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (typeof value === 'number' || typeof value === 'bigint') into.push(String(value));
  else if (Array.isArray(value)) for (const v of value) secretsIn(v, into);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) secretsIn(v, into);
  return into;
}

// ---- matching every encoding of a secret ----

const HTML_NAMES: Record<string, string> = { '"': 'quot', '&': 'amp', '<': 'lt', '>': 'gt', "'": 'apos' };
const JSON_SHORT: Record<string, string> = { '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't' };
const utf8 = new TextEncoder();

/** Hex digits of `n`, each letter matching either case. */
function hexPattern(n: number, width: number): string {
  return n
    .toString(16)
    .padStart(width, '0')
    .replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/**
 * One character of a secret in any of the encodings {@link redact} promises. Letters and digits encode as themselves.
 */
function charPattern(ch: string): string {
  if (/^[A-Za-z0-9]$/.test(ch)) return ch;
  const alts: string[] = [];
  // As is; `"`, `\` and `/` also escaped for JSON, nested any number of times (`\"`, `\\\"`).
  if (ch === '\\') alts.push('\\\\+');
  else if (ch === '"' || ch === '/') alts.push(`\\\\*${escapeRegExp(ch)}`);
  else alts.push(escapeRegExp(ch));
  const short = JSON_SHORT[ch];
  if (short) alts.push(`\\\\+${short}`);
  // JSON `\uXXXX`, one per UTF-16 code unit (a surrogate pair for characters beyond the BMP).
  let units = '';
  for (let i = 0; i < ch.length; i += 1) units += `\\\\+u${hexPattern(ch.charCodeAt(i), 4)}`;
  alts.push(units);
  // Percent-encoded UTF-8 (encodeURIComponent, forms), possibly percent-encoded again (`%252F`).
  alts.push([...utf8.encode(ch)].map((b) => `%(?:25)*${hexPattern(b, 2)}`).join(''));
  if (ch === ' ') alts.push('\\+');
  // HTML character references.
  const cp = ch.codePointAt(0)!;
  alts.push(`&#0*${cp};`, `&#[xX]0*${hexPattern(cp, 1)};`);
  const name = HTML_NAMES[ch];
  if (name) alts.push(`&${name};`);
  return `(?:${alts.join('|')})`;
}

function secretPattern(secret: string): string {
  let out = '';
  for (const ch of secret) out += charPattern(ch);
  return out;
}
