import type { AuthError, AuthOperation } from './errors.js';

/**
 * Events a session emits. Payloads describe what happened (when, how long, which generation of
 * tokens) and never carry a token or a secret.
 *
 * @example
 * const onFailure = (e: AuthEvents['failure']) => console.warn(e.operation, e.error.code, e.willRetry);
 * session.on('failure', onFailure);
 */
export interface AuthEvents {
  login: { strategy: string; durationMs: number; generation: number; expiresAt: number | undefined };
  refresh: { strategy: string; durationMs: number; generation: number; expiresAt: number | undefined };
  /** The token set changed (login, refresh, import, another process's update, logout). */
  tokens: {
    strategy: string;
    generation: number;
    reason: 'login' | 'refresh' | 'import' | 'store' | 'logout' | 'clear';
    expiresAt: number | undefined;
  };
  /** An auth call failed; `willRetry` says whether the engine tries again. */
  failure: { strategy: string; operation: AuthOperation; error: AuthError; attempt: number; willRetry: boolean };
  /** The server answered 429; auth calls are paused for `retryAfterMs`. */
  'rate-limited': { strategy: string; operation: AuthOperation; retryAfterMs: number };
  /** A request reported its token rejected. `stale` is true when it had already been replaced. */
  rejected: { strategy: string; generation: number; stale: boolean };
  logout: { strategy: string };
}

/**
 * The name of an event: `'login'`, `'refresh'`, `'tokens'`, `'failure'`, `'rate-limited'`, `'rejected'`, `'logout'`.
 *
 * @example
 * const watched: AuthEventName[] = ['login', 'refresh', 'logout'];
 * for (const name of watched) session.on(name, () => console.info(name));
 */
export type AuthEventName = keyof AuthEvents;

/**
 * A listener of one event; what `session.on(name, handler)` and the `on` option take.
 *
 * @example
 * const onRateLimited: AuthEventHandler<'rate-limited'> = (e) => console.warn(`paused ${e.retryAfterMs} ms`);
 * const off = session.on('rate-limited', onRateLimited);
 * off(); // unsubscribes
 */
export type AuthEventHandler<K extends AuthEventName> = (event: AuthEvents[K]) => void;

/** A tiny typed emitter (no Node `events`, so it runs in browsers and edge runtimes). */
export class Emitter {
  #handlers = new Map<AuthEventName, Set<(e: never) => void>>();

  on<K extends AuthEventName>(name: K, handler: AuthEventHandler<K>): () => void {
    let set = this.#handlers.get(name);
    if (!set) this.#handlers.set(name, (set = new Set()));
    set.add(handler as (e: never) => void);
    return () => set.delete(handler as (e: never) => void);
  }

  emit<K extends AuthEventName>(name: K, event: AuthEvents[K]): void {
    const set = this.#handlers.get(name);
    if (!set) return;
    for (const handler of set) {
      try {
        (handler as AuthEventHandler<K>)(event);
      } catch {
        // A throwing listener must not break token renewal for every caller.
      }
    }
  }
}
