/**
 * A pluggable logger; `console` fits. Fields never carry tokens or secrets.
 *
 * @example
 * const logger: Logger = { debug() {}, info: console.info, warn: console.warn, error: console.error };
 * createAuthSession(strategy, { logger });
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = () => {};

/**
 * The default: says nothing. Pass `console` or your own logger to see the engine's decisions.
 *
 * @example
 * const logger: Logger = process.env.DEBUG ? console : silentLogger;
 */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
