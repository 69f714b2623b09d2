import type { StoredTokens, TokenSet } from '@auth/core';

/** Marks our entries, so a value another script left under the same key is recognised as foreign. */
export const FORMAT = '@auth/browser-store';
/** The layout written today. A later release reads this version (or ignores it with a log line). */
export const VERSION = 1;

/** What a persisted entry holds; `refreshToken` is absent when it is kept out of this storage. */
interface Entry {
  format: typeof FORMAT;
  v: number;
  generation: number;
  tokens: TokenSet;
}

/** Why a stored value was not used: said in the log line (never the value itself). */
export type Unreadable = 'corrupted' | 'foreign' | 'other-version' | 'invalid';

export function encode(value: StoredTokens, withRefreshToken: boolean): string {
  const tokens: TokenSet = { ...value.tokens };
  if (!withRefreshToken) {
    delete tokens.refreshToken;
    delete tokens.refreshExpiresAt;
  }
  const entry: Entry = { format: FORMAT, v: VERSION, generation: value.generation, tokens };
  return JSON.stringify(entry);
}

export function decode(text: string): StoredTokens | Unreadable {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'corrupted';
  }
  if (!isObject(parsed) || parsed.format !== FORMAT) return 'foreign';
  if (parsed.v !== VERSION) return 'other-version';
  const { generation, tokens } = parsed;
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) return 'invalid';
  if (!isTokenSet(tokens)) return 'invalid';
  // Freshly parsed: nobody else holds these objects, so no copy.
  return { generation, tokens };
}

/** A token set as a session would accept it; messages from other tabs are checked the same way. */
export function isTokenSet(value: unknown): value is TokenSet {
  if (!isObject(value)) return false;
  if (typeof value.accessToken !== 'string' || value.accessToken === '') return false;
  if (value.refreshToken !== undefined && typeof value.refreshToken !== 'string') return false;
  for (const field of ['expiresAt', 'refreshExpiresAt', 'issuedAt'] as const) {
    if (value[field] !== undefined && (typeof value[field] !== 'number' || !Number.isFinite(value[field])))
      return false;
  }
  if (value.extra !== undefined && !isObject(value.extra)) return false;
  return true;
}

export function isStoredTokens(value: unknown): value is StoredTokens {
  return (
    isObject(value) &&
    typeof value.generation === 'number' &&
    Number.isSafeInteger(value.generation) &&
    isTokenSet(value.tokens)
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
