import type { ServerResponse } from 'node:http';
import { sendHtml, sendJson, sleep } from './server-kit.js';

/**
 * A fault to inject on the next `times` calls of an endpoint.
 *
 * @example
 * const fault: Fault = { kind: 'status', status: 503 };
 */
export type Fault =
  | { kind: 'delay'; ms: number }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'html'; status?: number }
  | { kind: 'malformed-json'; status?: number }
  | { kind: 'reset' };

/**
 * A fault for an endpoint, for a number of calls.
 *
 * @example
 * server.faults.add({ endpoint: 'refresh', fault: { kind: 'html' }, times: 2 });
 */
export interface FaultRule<E extends string> {
  endpoint: E;
  fault: Fault;
  /** How many calls it applies to. Default 1. */
  times?: number;
}

/**
 * Faults queued per endpoint, consumed call by call. A `delay` is applied and the call then goes on
 * normally; every other fault answers the call itself.
 *
 * @example
 * const faults = new FaultPlan<'login' | 'refresh'>();
 * faults.add({ endpoint: 'login', fault: { kind: 'reset' } });
 * if (await faults.apply('login', res)) return; // the fault answered this call
 */
export class FaultPlan<E extends string> {
  readonly #rules: { endpoint: E; fault: Fault; left: number }[] = [];

  add(rule: FaultRule<E>): void {
    this.#rules.push({ endpoint: rule.endpoint, fault: rule.fault, left: rule.times ?? 1 });
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** Applies the next fault for `endpoint`. Returns true when the fault has answered the request. */
  async apply(endpoint: E, res: ServerResponse): Promise<boolean> {
    const i = this.#rules.findIndex((r) => (r.endpoint === endpoint || r.endpoint === '*') && r.left > 0);
    if (i < 0) return false;
    const rule = this.#rules[i]!;
    rule.left -= 1;
    if (rule.left === 0) this.#rules.splice(i, 1);
    const f = rule.fault;
    switch (f.kind) {
      case 'delay':
        await sleep(f.ms);
        return false;
      case 'status':
        sendJson(res, f.status, f.body ?? { code: f.status, message: 'Injected failure' }, f.headers);
        return true;
      case 'html':
        sendHtml(
          res,
          f.status ?? 502,
          '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>',
        );
        return true;
      case 'malformed-json': {
        const text = '{"token": "abc", "refresh_tok';
        res.writeHead(f.status ?? 200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
        return true;
      }
      case 'reset':
        res.socket?.destroy();
        return true;
    }
  }
}
