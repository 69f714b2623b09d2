import { AbortedError, AuthError, ConfigurationError, CredentialsRequiredError } from './errors.js';
import type { StrategyContext } from './strategy.js';

/**
 * A username and password, handed to one login call and dropped after it.
 *
 * @example
 * const credentials: Credentials = { username: 'member@example.com', password: form.password.value };
 */
export interface Credentials {
  username: string;
  password: string;
}

/**
 * Asks the app for credentials when a login cannot be avoided (no tokens, or a dead refresh token):
 * in a browser, typically shows the login form and resolves with what the user typed. Called once
 * per login attempt, never for a refresh or a restore. Reject (or resolve nothing) when the user
 * cancels: the login then fails with `CREDENTIALS_REQUIRED`.
 *
 * @example
 * const credentials: CredentialsCallback = async ({ strategy, signal }) => showLoginForm({ signal });
 */
export type CredentialsCallback = (request: {
  strategy: string;
  signal: AbortSignal;
}) => Credentials | Promise<Credentials>;

/**
 * A fixed username and password (servers, scripts).
 *
 * @example
 * const fixed: FixedPassword = { username: 'admin', password: process.env.OL_PASSWORD! };
 */
export interface FixedPassword {
  /** The account's login. */
  username: string;
  /** Kept in a closure, sent only to the login endpoint, never in errors, logs or events. */
  password: string;
  credentials?: undefined;
}

/**
 * No password kept: the app is asked for credentials whenever a login cannot be avoided (browsers).
 *
 * @example
 * const onDemand: PasswordOnDemand = { credentials: ({ signal }) => showLoginForm({ signal }) };
 */
export interface PasswordOnDemand {
  /** Optional: when given, it names the store and rate-limit keys (the callback's username logs in). */
  username?: string;
  password?: undefined;
  /** Asked for `{ username, password }` at each login; never for a refresh or a restore. */
  credentials: CredentialsCallback;
}

/**
 * The password-based strategies' options: a fixed `password` or a `credentials` callback, exactly one.
 *
 * @example
 * const options: PasswordOptions = Math.random() > 0.5 ? { username: 'admin', password: 'pw' } : { credentials: () => showLoginForm() };
 */
export type PasswordOptions = FixedPassword | PasswordOnDemand;

/**
 * What {@link passwordSource} returns: the account name known up front (if any) and `get`, which a
 * strategy's `login` awaits for the credentials of that one call.
 *
 * @example
 * const source: PasswordSource = passwordSource(options, 'acme');
 */
export interface PasswordSource {
  /** The configured username, or `undefined` when only the callback knows it. */
  readonly username: string | undefined;
  get(ctx: StrategyContext): Promise<Credentials>;
}

/**
 * Checks a strategy's password options (exactly one of `password` and `credentials`; a username with a
 * password) and returns how its `login` obtains credentials. Shared by every password-based strategy.
 *
 * @example
 * const source = passwordSource({ username, password, credentials }, 'acme');
 * // in login(ctx):
 * const given = await source.get(ctx); // { username, password }
 */
export function passwordSource(
  options: { username?: unknown; password?: unknown; credentials?: unknown } | undefined,
  strategy: string,
): PasswordSource {
  const { username, password, credentials } = options ?? {};
  if (username !== undefined && (typeof username !== 'string' || username === ''))
    throw new ConfigurationError(`${strategy}: username must be a non-empty string`, { strategy });
  if (credentials !== undefined) {
    if (typeof credentials !== 'function')
      throw new ConfigurationError(`${strategy}: credentials must be a function`, { strategy });
    if (password !== undefined)
      throw new ConfigurationError(`${strategy}: pass either password or credentials, not both`, { strategy });
    const ask = credentials as CredentialsCallback;
    return {
      username: username as string | undefined,
      async get(ctx) {
        let given: Credentials | undefined;
        try {
          given = await ask({ strategy, signal: ctx.signal });
        } catch (error) {
          if (error instanceof AuthError) throw error;
          if (ctx.signal.aborted) throw new AbortedError('the session was closed', { operation: 'login', strategy });
          throw new CredentialsRequiredError(`${strategy}: a login is needed and the credentials callback gave none`, {
            strategy,
            cause: error,
          });
        }
        if (
          !given ||
          typeof given.username !== 'string' ||
          given.username === '' ||
          typeof given.password !== 'string' ||
          given.password === ''
        ) {
          throw new CredentialsRequiredError(`${strategy}: a login is needed and the credentials callback gave none`, {
            strategy,
          });
        }
        return { username: given.username, password: given.password };
      },
    };
  }
  if (typeof username !== 'string')
    throw new ConfigurationError(`${strategy}: username must be a non-empty string`, { strategy });
  if (typeof password !== 'string' || password === '')
    throw new ConfigurationError(`${strategy}: password must be a non-empty string (or pass credentials)`, {
      strategy,
    });
  const fixed: Credentials = { username, password };
  return { username, get: async () => fixed };
}
