import type { AxiosRequestConfig } from 'axios';

const own = <K extends keyof AxiosRequestConfig>(config: AxiosRequestConfig, key: K): AxiosRequestConfig[K] =>
  Object.prototype.hasOwnProperty.call(config, key) ? config[key] : undefined;

/**
 * The URL axios will request, resolved as axios does (`buildFullPath`): `baseURL` + `url` unless
 * `url` is absolute (`scheme://` or protocol-relative `//`) and `allowAbsoluteUrls` is not `false`;
 * own properties only, as axios reads them. Relative results resolve against the document base URL in a browser.
 * `undefined` when there is no absolute URL (axios would fail the request as well).
 *
 * Returns a string so that the session can remember its decision per URL: on the common paths
 * (an absolute `url`, or `baseURL` + a relative `url`) nothing is parsed here.
 */
export function requestUrl(config: AxiosRequestConfig): string | undefined {
  const baseURL = own(config, 'baseURL');
  const url = own(config, 'url');
  const absolute = isAbsoluteURL(url);
  if (!baseURL || (absolute && own(config, 'allowAbsoluteUrls') !== false)) return resolve(url);
  const combined = resolve(combineURLs(baseURL, url));
  // axios before 1.8 ignores allowAbsoluteUrls and sends an absolute url as it is: allow only what is right either way.
  if (absolute && combined !== undefined && parse(resolve(url), undefined)?.origin !== parse(combined, undefined)?.origin) return undefined;
  return combined;
}

/**
 * A `scheme://` URL as it is; anything else resolved as XHR and fetch do in browsers: against the
 * document's base URL (a `<base href>` may point to another origin), in a worker against its
 * location; `undefined` elsewhere.
 */
function resolve(url: unknown): string | undefined {
  if (typeof url === 'string' && /^[a-z][a-z\d+\-.]*:\/\//i.test(url)) return url;
  if (url instanceof URL) return url.href;
  const g = globalThis as { document?: { baseURI?: unknown }; location?: { href?: string } };
  const base = g.document?.baseURI;
  const page = typeof base === 'string' ? base : g.location?.href;
  return page === undefined ? undefined : parse(url, page)?.href;
}

function parse(url: unknown, base: string | undefined): URL | undefined {
  try {
    return new URL(url as string | URL, base);
  } catch {
    return undefined;
  }
}

function isAbsoluteURL(url: unknown): boolean {
  return typeof url === 'string' && /^([a-z][a-z\d+\-.]*:)?\/\//i.test(url);
}

function combineURLs(baseURL: string, relativeURL: unknown): string {
  if (!relativeURL) return baseURL;
  let end = baseURL.length;
  while (end > 0 && baseURL.charCodeAt(end - 1) === 47) end -= 1;
  return `${baseURL.slice(0, end)}/${String(relativeURL).replace(/^\/+/, '')}`;
}
