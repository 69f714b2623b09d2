import type { AxiosRequestConfig } from 'axios';

const own = <K extends keyof AxiosRequestConfig>(config: AxiosRequestConfig, key: K): AxiosRequestConfig[K] =>
  Object.prototype.hasOwnProperty.call(config, key) ? config[key] : undefined;

/**
 * The URL axios will request, resolved as axios does (`buildFullPath`): `baseURL` + `url` unless
 * `url` is absolute (`scheme://` or protocol-relative `//`) and `allowAbsoluteUrls` is not `false`;
 * own properties only, as axios reads them. Relative results resolve against the page in a browser.
 * `undefined` when there is no absolute URL (axios would fail the request as well).
 */
export function requestUrl(config: AxiosRequestConfig): URL | undefined {
  const baseURL = own(config, 'baseURL');
  const url = own(config, 'url');
  let full: unknown = url;
  if (baseURL && (!isAbsoluteURL(url) || own(config, 'allowAbsoluteUrls') === false)) full = combineURLs(baseURL, url);
  try {
    return new URL(full as string | URL, (globalThis as { location?: { href?: string } }).location?.href);
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
