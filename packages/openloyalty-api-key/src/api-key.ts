import { ConfigurationError, type Strategy } from '@auth/core';

/**
 * Options of {@link openLoyaltyApiKey}.
 *
 * @example
 * const options: OpenLoyaltyApiKeyOptions = { baseUrl: 'https://tenant.openloyalty.io', apiKey: process.env.OL_API_KEY! };
 */
export interface OpenLoyaltyApiKeyOptions {
  /** The OpenLoyalty instance, e.g. `https://tenant.openloyalty.io`. */
  baseUrl: string | URL;
  /**
   * An API key created in the OpenLoyalty admin panel. Sent as `X-AUTH-TOKEN`; never placed in errors, logs or events.
   */
  apiKey: string;
  /**
   * Key of the "token set" (the key itself) in a shared store. Default: base URL plus a short fingerprint of the key.
   */
  storeKey?: string;
}

const NAME = 'openloyalty-api-key';

/**
 * Strategy for OpenLoyalty API keys, the method upstream now recommends: every request carries
 * `X-AUTH-TOKEN: <key>`. There is nothing to log in to or refresh, so no auth call is ever made and
 * no rate limit applies. A rejected key (401) is replayed at most once by the core, then fails with
 * `TOKEN_REJECTED`: it never loops. Swap it for `openLoyaltyAdmin(...)` without changing adapters.
 *
 * @example
 * import { createAuthSession } from '@auth/core';
 * import { openLoyaltyApiKey } from '@auth/openloyalty-api-key';
 *
 * const session = createAuthSession(openLoyaltyApiKey({ baseUrl: 'https://tenant.openloyalty.io', apiKey: process.env.OL_API_KEY! }));
 * const tokens = await session.getToken();
 * const res = await fetch('https://tenant.openloyalty.io/api/default/member', { headers: session.authorize(tokens) });
 */
export function openLoyaltyApiKey(options: OpenLoyaltyApiKeyOptions): Strategy {
  let base: URL;
  try {
    base = new URL(String(options?.baseUrl));
  } catch {
    throw new ConfigurationError(`${NAME}: baseUrl must be an absolute http(s) URL`, { strategy: NAME });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new ConfigurationError(`${NAME}: baseUrl must use http or https`, { strategy: NAME });
  // Kept in this closure only: never a property of the strategy object.
  const apiKey = options.apiKey;
  if (typeof apiKey !== 'string' || apiKey.trim() === '')
    throw new ConfigurationError(`${NAME}: apiKey must be a non-empty string`, { strategy: NAME });
  if (/[\r\n]/.test(apiKey))
    throw new ConfigurationError(`${NAME}: apiKey must not contain line breaks`, { strategy: NAME });
  const baseText = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  return {
    name: NAME,
    origins: [base.origin],
    storeKey: options.storeKey ?? `${NAME}:${baseText}:${fingerprint(apiKey)}`,
    async login() {
      return { accessToken: apiKey };
    },
    authorize(tokens) {
      return { 'x-auth-token': tokens.accessToken };
    },
    isTokenRejected(response) {
      return response.status === 401;
    },
  };
}

/** FNV-1a, 32 bits: tells keys apart in store keys without revealing them. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
