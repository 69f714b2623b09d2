/**
 * Removes every known secret from a piece of text that might reach an error, a log line or an event
 * (a server that echoes the request body back, say). Secrets shorter than 4 characters are not
 * replaced: they would match too much and cannot be told apart from ordinary text.
 *
 * @example
 * redact('bad password hunter22 for alice', ['hunter22', undefined]); // 'bad password [redacted] for alice'
 */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4 && out.includes(s)) out = out.split(s).join('[redacted]');
  }
  return out;
}

/** Collects string leaves of a JSON body; everything a strategy sends is treated as a secret. */
export function secretsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const v of value) secretsIn(v, into);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) secretsIn(v, into);
  return into;
}
