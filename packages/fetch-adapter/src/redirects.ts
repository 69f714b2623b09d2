import { discard } from './body.js';

/** What following a redirect chain needs to know about the request that started it. */
export interface RedirectChain {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  /** The caller's own init: its other options (a dispatcher, credentials, …) go with every hop. */
  init: RequestInit | undefined;
  url: string;
  method: string;
  body: BodyInit | null | undefined;
  /** Whether `body` can be sent again (not a stream). */
  replayable: boolean;
  /** The caller's headers (of `init` or of the `Request`), as given. */
  headers: HeadersInit | undefined;
  signal: AbortSignal | null | undefined;
  /** The auth headers the first hop carried. */
  auth: readonly [string, string][];
  /** Whether a hop to `url` may carry them. */
  authorizes: (url: string) => boolean;
}

/**
 * Answers at the end of a redirect chain followed here in which every hop carried the auth headers.
 * Only those, and answers that were not redirected, say something about the token (a 401) or our
 * budget (a 429): an answer reached through a hop without them, or through redirects the runtime
 * followed out of our sight (where fetch drops `Authorization` on a cross-origin hop and never puts
 * it back), is handed back as it is.
 */
export const answeredWithAuth = new WeakSet<Response>();

/** Whether fetch's `redirect: 'follow'` would follow this answer. */
export function isRedirect(response: Response): boolean {
  const s = response.status;
  return (s === 301 || s === 302 || s === 303 || s === 307 || s === 308) && response.headers.has('location');
}

const MAX_REDIRECTS = 20;
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];
// What fetch removes when a redirect changes origin (the Fetch standard names Authorization; Node's
// fetch also removes these two).
const CROSS_ORIGIN_DROPPED = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * Follows redirects from `response` (the answer to the first hop, sent with `redirect: 'manual'`) as
 * the Fetch standard's HTTP-redirect fetch does, except that the auth headers go only to hops that
 * may carry them: fetch itself would forward any header but `Authorization` to wherever the server
 * points. Network-error cases reject with a `TypeError`, as fetch does; messages never hold a URL.
 */
export async function followRedirects(response: Response, chain: RedirectChain): Promise<Response> {
  let url = chain.url;
  let origin = new URL(url).origin;
  let method = chain.method;
  let body = chain.body;
  let headers: Headers | undefined;
  let count = 0;
  // Once a hop may not carry the auth headers, no later hop gets them back, as fetch never puts
  // Authorization back: otherwise an origin on the way would choose the method, path and body of a
  // request sent with them (a 307 back to an endpoint of its choice).
  let carrying = true;
  for (; isRedirect(response); count += 1) {
    const status = response.status;
    discard(response);
    let next: URL;
    try {
      next = new URL(response.headers.get('location')!, url);
    } catch {
      throw new TypeError('fetch failed: invalid redirect location');
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new TypeError('fetch failed: redirect to a URL that is not http(s)');
    // fetch refuses these too, with the URL in its message.
    if (next.username !== '' || next.password !== '') throw new TypeError('fetch failed: redirect to a URL with credentials');
    if (count === MAX_REDIRECTS) throw new TypeError('fetch failed: redirect count exceeded');
    // fetch cannot send a stream again either; only a 303 drops the body.
    if (status !== 303 && body !== undefined && body !== null && !chain.replayable) throw new TypeError('fetch failed: cannot follow a redirect with a ReadableStream body');

    if (headers === undefined) {
      headers = new Headers(chain.headers);
      for (const [name] of chain.auth) headers.delete(name);
    }
    const upper = method.toUpperCase();
    if (((status === 301 || status === 302) && upper === 'POST') || (status === 303 && upper !== 'GET' && upper !== 'HEAD')) {
      method = 'GET';
      body = null;
      for (const name of BODY_HEADERS) headers.delete(name);
    }
    if (next.origin !== origin) for (const name of CROSS_ORIGIN_DROPPED) headers.delete(name);

    url = next.href;
    origin = next.origin;
    const hop = new Headers(headers);
    carrying &&= chain.authorizes(url);
    if (carrying) for (const [name, value] of chain.auth) hop.set(name, value);
    response = await chain.fetch(url, { ...chain.init, method, headers: hop, body, signal: chain.signal ?? null, redirect: 'manual' });
  }
  // As fetch marks an answer it reached through a redirect; callers may look.
  if (count > 0 && !response.redirected) Object.defineProperty(response, 'redirected', { value: true, configurable: true });
  if (count > 0 && carrying) answeredWithAuth.add(response);
  return response;
}

