import { Agent } from 'node:http';
import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

/**
 * The transports every candidate shares, so that only the auth layer differs between them.
 *
 * Over loopback, axios candidates use one keep-alive agent capped at {@link MAX_SOCKETS} sockets and
 * fetch candidates go through {@link gatedFetch}, which caps in-flight requests at the same number
 * (Node's built-in fetch pool has no cap of its own, and 10,000 concurrent requests would otherwise
 * open 10,000 client and 10,000 server sockets in this one process).
 */
export const MAX_SOCKETS = 256;

export const httpAgent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });

/**
 * The peers' own auth calls (login, refresh) get their own agent, as ours go through fetch: never queued behind a
 * storm.
 */
export const authAgent = new Agent({ keepAlive: true });

export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

let inFlight = 0;
const waiting: (() => void)[] = [];

/** The global fetch with at most {@link MAX_SOCKETS} requests in flight (the rest wait in FIFO order). */
export const gatedFetch: FetchFn = async (input, init) => {
  if (inFlight >= MAX_SOCKETS) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight += 1;
  try {
    return await globalThis.fetch(input, init);
  } finally {
    inFlight -= 1;
    waiting.shift()?.();
  }
};

// The no-op transports below resolve the request's URL, as every real transport must before it can
// send anything, and then answer at once. Without that, a wrapper that reads a URL the caller has just
// built (`${base}${path}`) would be billed for flattening that string in memory, a cost the transport
// pays anyway when nobody has read the URL before it.

/** In process: an axios adapter that resolves the URL as axios' own adapters do and answers 200 `{}` at once. */
export const noopAxiosAdapter: AxiosAdapter = (config: InternalAxiosRequestConfig) => {
  const url = config.url ?? '';
  // axios' buildFullPath: baseURL + url unless url is absolute.
  new URL(
    config.baseURL && !/^([a-z][a-z\d+\-.]*:)?\/\//i.test(url)
      ? `${config.baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`
      : url,
  );
  return Promise.resolve<AxiosResponse>({ data: {}, status: 200, statusText: 'OK', headers: {}, config, request: {} });
};

const BODY = new TextEncoder().encode('{}');
const INIT: ResponseInit = { status: 200, headers: { 'content-type': 'application/json' } };

/**
 * In process: a base fetch that resolves the URL and answers 200 `{}` at once. Each call gets a new
 * `Response` over the same prebuilt bytes and init: cloning one prebuilt `Response` again and again
 * tees its body stream into an ever longer chain, which slows every call down and grows the heap by itself.
 */
export const noopFetch: FetchFn = (input) => {
  // A Request carries its URL parsed already.
  if (typeof input === 'string' || input instanceof URL) new URL(input);
  return Promise.resolve(new Response(BODY, INIT));
};
