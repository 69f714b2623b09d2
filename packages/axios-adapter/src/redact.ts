import type { AxiosError, InternalAxiosRequestConfig } from 'axios';

export const REDACTED = '[redacted]';

/**
 * Takes the token out of an error handed back for `config`: its headers, the transport's request
 * objects (kept, but out of what loggers walk) and the answer's config.
 */
export function scrub(error: Error, config: InternalAxiosRequestConfig, names: readonly string[], token: string): void {
  redactHeaders(config.headers, names);
  const e = error as Partial<AxiosError>;
  redactRequest(e.request, names, token);
  hide(e, 'request');
  const response = e.response;
  if (!response) return;
  if (response.config && response.config !== config) redactHeaders(response.config.headers, names);
  if (response.request !== e.request) redactRequest(response.request, names, token);
  hide(response, 'request');
}

/** Replaces the values of `names` in an axios headers object (AxiosHeaders or a plain record). */
export function redactHeaders(headers: unknown, names: readonly string[]): void {
  if (!headers || typeof headers !== 'object') return;
  const h = headers as { has?: (n: string) => boolean; set?: (n: string, v: string) => unknown } & Record<
    string,
    unknown
  >;
  for (const name of names) {
    if (typeof h.has === 'function' && typeof h.set === 'function') {
      if (h.has(name)) h.set(name, REDACTED);
      continue;
    }
    const lower = name.toLowerCase();
    for (const key of Object.keys(h)) if (key.toLowerCase() === lower) h[key] = REDACTED;
  }
}

/**
 * Scrubs the token from what the transport kept of a sent request: Node's `ClientRequest` (its raw
 * `_header` text and its header map) or a fetch `Request` (axios' fetch adapter).
 */
export function redactRequest(
  request: unknown,
  names: readonly string[],
  token: string,
  seen: Set<unknown> = new Set(),
): void {
  if (!request || typeof request !== 'object' || seen.has(request)) return;
  seen.add(request);
  const r = request as Record<string | symbol, unknown>;
  try {
    // Every way between the objects of this one request: follow-redirects' wrapper and the hop's
    // `ClientRequest` point at each other (a socket's reference to its request leads to one of them),
    // and an answer to its request.
    redactRequest(r._redirectable, names, token, seen);
    redactRequest(r._currentRequest, names, token, seen);
    redactRequest((r.res as { req?: unknown } | undefined)?.req, names, token, seen);
    if (typeof r._header === 'string' && token) r._header = r._header.split(token).join(REDACTED);
    // follow-redirects' wrapper keeps the options it was given.
    const options = r._options as { headers?: unknown } | undefined;
    if (options && typeof options === 'object') redactHeaders(options.headers, names);
    for (const sym of Object.getOwnPropertySymbols(r)) {
      if (sym.description !== 'kOutHeaders') continue;
      const map = r[sym] as Record<string, [string, unknown]> | null | undefined;
      if (!map) continue;
      for (const name of names) {
        const entry = map[name.toLowerCase()];
        if (entry) entry[1] = REDACTED;
      }
    }
    const headers = r.headers as { has?: unknown; set?: unknown } | undefined;
    if (headers && typeof headers.has === 'function' && typeof headers.set === 'function' && typeof r.url === 'string')
      redactHeaders(headers, names);
  } catch {
    // An exotic transport object that refuses writes: nothing more we can do.
  }
}

/**
 * Keeps `owner[key]` readable but out of what loggers and `util.inspect` walk: a transport's request
 * object leads to sockets that remember earlier requests (and their headers) of a kept-alive connection.
 */
export function hide(owner: object, key: string): void {
  const d = Object.getOwnPropertyDescriptor(owner, key);
  if (d && d.enumerable && d.configurable) Object.defineProperty(owner, key, { ...d, enumerable: false });
}
