import axios, { type AxiosAdapter, type AxiosRequestConfig, type InternalAxiosRequestConfig } from 'axios';
import { hidesManualRedirects, type RequestRun } from '@auth/core';

// What the adapter changes on an axios config while its request is in flight, and puts back when it
// settles: the transport swap, the redirect hook (on the config, or through a caller's Node
// transport), and redirects handed back where no hook of ours can see them.

type Config = InternalAxiosRequestConfig;
type Hook = (...args: unknown[]) => void;

/** What follow-redirects hands to `beforeRedirect`: the next hop's request options. */
interface RedirectOptions {
  href?: string;
  headers?: Record<string, unknown>;
}

/** What a Node transport object of the caller's (`config.transport`, e.g. `followRedirects.http`) offers. */
interface NodeTransport {
  request(options: Record<string, unknown>, callback?: Hook): unknown;
}

const transports: { http?: AxiosAdapter | null; fetch?: AxiosAdapter | null } = {};
/** axios' transport of that name for its default environment (looked up once), `null` where there is none. */
function axiosTransport(name: 'http' | 'fetch'): AxiosAdapter | null {
  let transport = transports[name];
  if (transport === undefined) {
    try {
      transport = axios.getAdapter(name);
    } catch {
      transport = null; // This runtime has none.
    }
    transports[name] = transport;
  }
  return transport;
}

// Browsers and workers answer a manual redirect opaquely: there the runtime must follow redirects.
const runtimeFollows = hidesManualRedirects();

/** The caller's `maxRedirects` and `fetchOptions`, kept while ours are in force. */
interface Capped {
  maxRedirects: unknown;
  fetchOptions: unknown;
  hadMax: boolean;
  hadFetch: boolean;
}

/** One request of ours: its run, and the request's own transport and hooks, which ours wrap while it is in flight. */
export class InFlight {
  readonly run: RequestRun;
  readonly inner: AxiosRequestConfig['adapter'];
  readonly #beforeRedirect: AxiosRequestConfig['beforeRedirect'];
  #hook: Hook | undefined;
  #capped: Capped | undefined;
  #theirs: NodeTransport | undefined;
  #wrapped: NodeTransport | undefined;

  constructor(run: RequestRun, config: Config, inner: AxiosRequestConfig['adapter']) {
    this.run = run;
    this.inner = inner;
    this.#beforeRedirect = config.beforeRedirect;
  }

  /** Before each send: our redirect hook on every hop the transport follows, or redirects handed back. */
  arm(config: Config, transport: AxiosAdapter): void {
    // Only Node's transport (follow-redirects, possibly behind a wrapper of the caller's) calls
    // beforeRedirect. A config copied in flight carries this very hook.
    this.#hook ??= (opts, response, request) => {
      (this.#beforeRedirect as Hook | undefined)?.(opts, response, request);
      this.#onRedirect(opts as RedirectOptions);
    };
    if (config.beforeRedirect !== this.#hook) config.beforeRedirect = this.#hook;
    const own = config as unknown as Record<string, unknown>;
    if (transport === axiosTransport('http')) {
      // axios gives a transport of the caller's no beforeRedirect of the config: ours goes in through that transport.
      const theirs = own.transport as NodeTransport | undefined;
      if (theirs && theirs !== this.#wrapped) own.transport = this.#wrapped = this.#wrap((this.#theirs = theirs));
    } else if (
      this.#capped === undefined &&
      !runtimeFollows &&
      (this.run.auth.custom || this.#isFetch(transport, config))
    ) {
      // Other transports follow redirects where no hook of ours can see them: axios' fetch adapter
      // keeps every header but Authorization, and an answer it reached through another origin (a
      // 401 of the API, where the chain came back without the token) would pass for a verdict on the
      // token. A redirect is handed back instead of followed (`maxRedirects: 0` in axios 1.19+,
      // `fetchOptions.redirect` before). Not in browsers: there a manual redirect comes back opaque
      // (status 0) after the server acted on the request, so the browser follows it (see the README).
      const { maxRedirects, fetchOptions } = own;
      this.#capped = { maxRedirects, fetchOptions, hadMax: 'maxRedirects' in own, hadFetch: 'fetchOptions' in own };
      config.maxRedirects = 0;
      own.fetchOptions = { ...(fetchOptions as object | undefined), redirect: 'manual' };
    }
  }

  /** The config as the caller made it: a later `axios(config)` goes through its own transport and hooks. */
  restore(config: Config): void {
    const own = config as unknown as Record<string, unknown>;
    config.adapter = this.inner;
    if (this.#wrapped !== undefined && own.transport === this.#wrapped) own.transport = this.#theirs;
    if (this.#beforeRedirect === undefined) delete config.beforeRedirect;
    else config.beforeRedirect = this.#beforeRedirect;
    const was = this.#capped;
    this.#capped = undefined;
    if (was === undefined) return;
    if (was.hadMax) own.maxRedirects = was.maxRedirects;
    else delete own.maxRedirects;
    if (was.hadFetch) own.fetchOptions = was.fetchOptions;
    else delete own.fetchOptions;
  }

  toJSON(): unknown {
    return this.run.toJSON();
  }

  /**
   * follow-redirects drops `Authorization` when the host changes, except to a subdomain, and keeps
   * every other header: a strategy's own header (`X-AUTH-TOKEN`, say) would reach any origin the
   * server redirects to. Each hop carries our headers only if the run says it may.
   */
  #onRedirect(opts: RedirectOptions): void {
    const headers = opts.headers;
    if (!headers) return;
    const allowed = this.run.hop(typeof opts.href === 'string' ? opts.href : undefined);
    for (const [name, value] of this.run.auth.pairs) {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
      if (allowed) headers[name] = value;
    }
  }

  /**
   * `inner` with our hook on every hop it follows: follow-redirects calls the `beforeRedirect` of its
   * options, where axios put its own hooks (a proxy's, say) but, with a caller's transport, not the
   * config's. The caller's `beforeRedirect` is not called there either, as axios would not.
   */
  #wrap(inner: NodeTransport): NodeTransport {
    const request = (options: Record<string, unknown>, callback?: Hook): unknown => {
      const axiosHook = options.beforeRedirect as Hook | undefined;
      options.beforeRedirect = (opts: RedirectOptions, response: unknown, req: unknown) => {
        if (typeof axiosHook === 'function') axiosHook(opts, response, req);
        this.#onRedirect(opts);
      };
      return inner.request(options, callback);
    };
    return Object.create(inner, { request: { value: request, writable: true, configurable: true } }) as NodeTransport;
  }

  /** Whether `transport` is axios' fetch adapter: the default one, or the one made for this config's `env`. */
  #isFetch(transport: AxiosAdapter, config: Config): boolean {
    if (transport === axiosTransport('fetch')) return true;
    if (typeof this.inner === 'function' || axiosTransport('fetch') === null) return false;
    try {
      return transport === axios.getAdapter('fetch', config);
    } catch {
      return false;
    }
  }
}
