// Helpers of the redaction tests: every form in which a secret could come back from a server that
// echoes a request, a deep dump of everything an error, a log call or an event exposes, and `failure`,
// the error a promise rejects with (also used by tests of other packages).
import { inspect } from 'node:util';
import { expect } from 'vitest';
import type { AuthError } from '@auth/core';

/** Percent-encoding with lower-case hex digits (what some servers re-encode with). */
const lowerHex = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/**
 * The forms a secret takes on the wire or in an echo: raw, JSON-escaped (also PHP's `\/`),
 * `encodeURIComponent`, `application/x-www-form-urlencoded` (`+` for space), lower-case hex, base64.
 */
export function encodings(secret: string, opts: { base64?: boolean } = {}): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const forms = [
    secret,
    json,
    json.replace(/\//g, '\\/'),
    encodeURIComponent(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
  ];
  forms.push(...forms.slice(3).map(lowerHex));
  if (opts.base64 !== false)
    forms.push(Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'));
  return [...new Set(forms)];
}

/**
 * Fails when any 8-character window of any encoding of any secret appears in `text`: a secret
 * cut in half (by a length limit) still fails the test.
 */
export function expectNoLeak(text: string, secrets: readonly string[], label = 'text'): void {
  for (const secret of secrets) {
    for (const form of encodings(secret)) {
      const width = Math.min(8, form.length);
      for (let i = 0; i + width <= form.length; i += 1) {
        const window = form.slice(i, i + width);
        if (text.includes(window)) {
          expect.fail(
            `${label} leaks ${JSON.stringify(window)} of ${JSON.stringify(form)}:\n${text.slice(Math.max(0, text.indexOf(window) - 120), text.indexOf(window) + 120)}`,
          );
        }
      }
    }
  }
}

/**
 * Everything reachable from `value` as text: for errors `message`, `String()`, `stack`, `toJSON()`,
 * `JSON.stringify`, `util.inspect`, and every own property (non-enumerable ones, `cause`, symbols)
 * recursively.
 */
export function dump(value: unknown): string {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 12) return;
    if (typeof v === 'string') return void out.push(v);
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || typeof v === 'symbol')
      return void out.push(String(v));
    if (typeof v === 'function' || v === null || v === undefined || typeof v !== 'object') return;
    if (seen.has(v)) return;
    seen.add(v);
    try {
      out.push(JSON.stringify(v));
    } catch {
      // cycles: the walk below covers it
    }
    out.push(inspect(v, { depth: 8, showHidden: true }));
    if (v instanceof Error) out.push(String(v), v.message, v.stack ?? '');
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function')
      walk((v as { toJSON(): unknown }).toJSON(), depth + 1);
    if (v instanceof Map || v instanceof Set || v instanceof Headers || v instanceof URLSearchParams)
      for (const e of v as Iterable<unknown>) walk(e, depth + 1);
    for (const key of Reflect.ownKeys(v)) {
      out.push(String(key));
      try {
        walk((v as Record<PropertyKey, unknown>)[key], depth + 1);
      } catch {
        // a throwing getter exposes nothing
      }
    }
    if (v instanceof Error && !Object.prototype.hasOwnProperty.call(v, 'cause'))
      walk((v as { cause?: unknown }).cause, depth + 1);
  };
  walk(value, 0);
  return out.join('\n');
}

/** A logger that keeps every call's arguments. */
export function capturingLogger() {
  const calls: { level: string; args: unknown[] }[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      void calls.push({ level, args });
  return { calls, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function failure(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    return error as AuthError;
  }
  throw new Error('expected a rejection');
}
