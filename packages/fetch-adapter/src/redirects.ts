import type { RequestRun } from '@auth/core';

/** What following a redirect chain needs to know about the request that started it. */
export interface RedirectChain {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  /** The caller's own init: its other options (a dispatcher, credentials, …) go with every hop. */
  init: RequestInit | undefined;
  url: string;
  method: string;
  body: BodyInit | null | undefined;
  /** The caller's headers (of `init` or of the `Request`), as given. */
  headers: HeadersInit | undefined;
  /** The request's run: its auth headers, whether its body can be sent again, which hops carry the token. */
  run: RequestRun;
  /** The caller's opt-out for a hop's URL. */
  optedOut: (url: string) => (() => boolean) | undefined;
}

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
  for (; isRedirect(response); count += 1) {
    const status = response.status;
    discard(response);
    let next: URL;
    try {
      next = new URL(response.headers.get('location')!, url);
    } catch {
      throw new TypeError('fetch failed: invalid redirect location');
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw new TypeError('fetch failed: redirect to a URL that is not http(s)');
    // fetch refuses these too, with the URL in its message.
    if (next.username !== '' || next.password !== '')
      throw new TypeError('fetch failed: redirect to a URL with credentials');
    if (count === MAX_REDIRECTS) throw new TypeError('fetch failed: redirect count exceeded');
    // fetch cannot send a stream again either; only a 303 drops the body.
    if (status !== 303 && body !== undefined && body !== null && !chain.run.replayable)
      throw new TypeError('fetch failed: cannot follow a redirect with a ReadableStream body');

    if (headers === undefined) {
      headers = new Headers(chain.headers);
      for (const name of chain.run.auth.names) headers.delete(name);
    }
    const upper = method.toUpperCase();
    if (
      ((status === 301 || status === 302) && upper === 'POST') ||
      (status === 303 && upper !== 'GET' && upper !== 'HEAD')
    ) {
      method = 'GET';
      body = null;
      for (const name of BODY_HEADERS) headers.delete(name);
    }
    if (next.origin !== origin) for (const name of CROSS_ORIGIN_DROPPED) headers.delete(name);

    url = next.href;
    origin = next.origin;
    const hop = new Headers(headers);
    // Once a hop may not carry the token, no later hop does (an origin on the way would otherwise
    // choose the method, path and body of a request sent with it: a 307 back to an endpoint of its choice).
    if (chain.run.hop(url, chain.optedOut(url))) for (const [name, value] of chain.run.auth.pairs) hop.set(name, value);
    response = await chain.fetch(url, {
      ...chain.init,
      method,
      headers: hop,
      body,
      signal: chain.run.signal ?? null,
      redirect: 'manual',
    });
  }
  // As fetch marks an answer it reached through a redirect; callers may look.
  if (count > 0 && !response.redirected)
    Object.defineProperty(response, 'redirected', { value: true, configurable: true });
  return response;
}

/** Frees the connection of an answer that is not handed to the caller. */
export function discard(response: Response): void {
  if (response.body && !response.bodyUsed) response.body.cancel().catch(() => {});
}
