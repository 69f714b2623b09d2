import type { AxiosRequestConfig } from 'axios';
import { absoluteUrl as resolve, sameEntries } from '@auth/core';

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
  if (absolute && combined !== undefined && parse(resolve(url))?.origin !== parse(combined)?.origin) return undefined;
  return combined;
}

function parse(url: unknown): URL | undefined {
  try {
    return new URL(url as string | URL);
  } catch {
    return undefined;
  }
}

/**
 * Whether requests made with `config` may carry the token, remembered per (`baseURL`, `url`) pair:
 * building and resolving the URL costs more than all the rest of the interceptor, and most requests
 * repeat a few pairs. Only pairs whose URL does not depend on the document's base URL are remembered
 * (bounded), and all are forgotten when the extra origins are changed in place.
 */
export function targetCheck(
  decide: (url: string) => boolean,
  origins: readonly string[] | undefined,
): (config: AxiosRequestConfig) => boolean {
  const byBase = new Map<string, Map<string, boolean>>();
  let size = 0;
  let seen = origins && [...origins];
  return (config) => {
    const url = own(config, 'url');
    const baseURL = own(config, 'baseURL');
    if (
      typeof url !== 'string' ||
      (baseURL !== undefined && typeof baseURL !== 'string') ||
      own(config, 'allowAbsoluteUrls') === false
    ) {
      const target = requestUrl(config);
      return target !== undefined && decide(target);
    }
    if (origins && !sameEntries(seen!, origins)) {
      byBase.clear();
      size = 0;
      seen = [...origins];
    }
    let known = byBase.get(baseURL ?? '');
    const found = known?.get(url);
    if (found !== undefined) return found;
    const target = requestUrl(config);
    const decision = target !== undefined && decide(target);
    // The string requestUrl resolved: remembered only when it is `scheme://...` as it is.
    if (SCHEME.test(!baseURL || isAbsoluteURL(url) ? url : baseURL)) {
      if (size >= 1024) {
        byBase.clear();
        size = 0;
        known = undefined;
      }
      if (!known) byBase.set(baseURL ?? '', (known = new Map()));
      known.set(url, decision);
      size += 1;
    }
    return decision;
  };
}

const SCHEME = /^[a-z][a-z\d+\-.]*:\/\//i;

function isAbsoluteURL(url: unknown): boolean {
  return typeof url === 'string' && /^([a-z][a-z\d+\-.]*:)?\/\//i.test(url);
}

function combineURLs(baseURL: string, relativeURL: unknown): string {
  if (!relativeURL) return baseURL;
  let end = baseURL.length;
  while (end > 0 && baseURL.charCodeAt(end - 1) === 47) end -= 1;
  return `${baseURL.slice(0, end)}/${String(relativeURL).replace(/^\/+/, '')}`;
}
