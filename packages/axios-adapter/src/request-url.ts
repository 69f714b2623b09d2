import type { AxiosRequestConfig } from 'axios';

const own = <K extends keyof AxiosRequestConfig>(config: AxiosRequestConfig, key: K): AxiosRequestConfig[K] =>
  Object.prototype.hasOwnProperty.call(config, key) ? config[key] : undefined;

/**
 * The URL axios will request, resolved as axios does (`buildFullPath`): `baseURL` + `url` unless
 * `url` is absolute (`scheme://` or protocol-relative `//`) and `allowAbsoluteUrls` is not `false`;
 * own properties only, as axios reads them. Relative results resolve against the page in a browser.
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

/** A `scheme://` URL as it is; anything else resolved against the page (browsers), else `undefined`. */
function resolve(url: unknown): string | undefined {
  if (typeof url === 'string' && /^[a-z][a-z\d+\-.]*:\/\//i.test(url)) return url;
  if (url instanceof URL) return url.href;
  const page = (globalThis as { location?: { href?: string } }).location?.href;
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
