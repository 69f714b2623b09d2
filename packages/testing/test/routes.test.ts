import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, routes, sendJson, type Route, type RunningServer } from '@auth/testing';

type Call = (req: IncomingMessage, res: ServerResponse, params: Readonly<Record<string, string>>) => void;
const echo =
  (name: string): Call =>
  (req, res, params) =>
    sendJson(res, 200, { name, method: req.method, params });

const started: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

/** A real server answering from `table`: 404 and 405 (with `Allow`) as the reference servers do. */
async function serve(table: Route<Call>[], opts?: { decode?: boolean }) {
  const t = routes(table, opts);
  const running = await listen((req, res) => {
    const found = t.match(req.method ?? 'GET', new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (found.status === 200) return found.route.handler(req, res, found.params);
    if (found.status === 405) {
      return sendJson(res, 405, { routes: found.routes.map((r) => r.name) }, { allow: found.allow });
    }
    sendJson(res, 404, { malformed: found.malformed });
  });
  started.push(running);
  return async (path: string, method = 'GET') => {
    const res = await fetch(`${running.url}${path}`, { method });
    return { status: res.status, allow: res.headers.get('allow'), body: (await res.json()) as unknown };
  };
}

describe('routes(): a route table for the reference servers', () => {
  it('matches literal segments and takes :params, possibly empty, percent-decoded', async () => {
    const call = await serve([
      { method: 'POST', path: '/api/admin/login_check', name: 'admin-login', handler: echo('admin-login') },
      { method: 'GET', path: '/api/:store/member/:memberId', name: 'member-get', handler: echo('member-get') },
    ]);
    const login = { status: 200, body: { name: 'admin-login', params: {} } };
    expect(await call('/api/admin/login_check', 'POST')).toMatchObject(login);
    expect(await call('/api/%61dmin/login_check', 'POST')).toMatchObject(login);
    expect(await call('/api/shop%2F1/member/42')).toMatchObject({
      status: 200,
      body: { name: 'member-get', params: { store: 'shop/1', memberId: '42' } },
    });
    const emptyStore = { status: 200, body: { params: { store: '', memberId: '42' } } };
    expect(await call('/api//member/42')).toMatchObject(emptyStore);
  });

  it('answers 404 for an unknown path, a wrong segment count, and malformed percent-encoding', async () => {
    const call = await serve([
      { method: 'GET', path: '/api/:store/member', name: 'members', handler: echo('members') },
    ]);
    expect(await call('/api/s/member/x')).toEqual({ status: 404, allow: null, body: { malformed: false } });
    expect(await call('/api/member')).toEqual({ status: 404, allow: null, body: { malformed: false } });
    expect(await call('/api/s/member/')).toEqual({ status: 404, allow: null, body: { malformed: false } });
    expect(await call('/api/%E0/member')).toEqual({ status: 404, allow: null, body: { malformed: true } });
  });

  it('answers 405 with Allow listing every method of the path, and "*" accepts any method', async () => {
    const call = await serve([
      { method: 'GET', path: '/api/v3/metadata/:key', name: 'get', handler: echo('get') },
      { method: 'PUT', path: '/api/v3/metadata/:key', name: 'put', handler: echo('put') },
      { method: '*', path: '/api/echo', name: 'echo', handler: echo('echo') },
    ]);
    const put = { status: 200, body: { name: 'put', params: { key: 'k' } } };
    expect(await call('/api/v3/metadata/k', 'PUT')).toMatchObject(put);
    const notAllowed = { status: 405, allow: 'GET, PUT', body: { routes: ['get', 'put'] } };
    expect(await call('/api/v3/metadata/k', 'POST')).toEqual(notAllowed);
    // Methods are exact: HEAD is not folded into GET.
    const head = await fetch(`${started[0]!.url}/api/v3/metadata/k`, { method: 'HEAD' });
    expect([head.status, head.headers.get('allow')]).toEqual([405, 'GET, PUT']);
    for (const method of ['GET', 'POST', 'DELETE', 'PATCH']) {
      expect(await call('/api/echo', method)).toMatchObject({ status: 200, body: { name: 'echo', method } });
    }
  });

  it('gives the path to the first route that matches it, so literal paths go before :params', async () => {
    const call = await serve([
      { method: 'POST', path: '/api/:store/member/login_check', name: 'member-login', handler: echo('member-login') },
      { method: 'GET', path: '/api/:store/member/:memberId', name: 'member-get', handler: echo('member-get') },
    ]);
    // The login route owns the path: a GET there is a 405, not a member called login_check.
    const notAllowed = { status: 405, allow: 'POST', body: { routes: ['member-login'] } };
    expect(await call('/api/s/member/login_check')).toEqual(notAllowed);
    expect(await call('/api/s/member/7')).toMatchObject({ status: 200, body: { name: 'member-get' } });
  });

  it('takes the rest of the path with a last *segment, and can compare raw (undecoded) paths', async () => {
    const call = await serve(
      [
        { method: '*', path: '/api/v3/*rest', name: 'v3', handler: echo('v3') },
        { method: 'GET', path: '/raw/%41', name: 'raw', handler: echo('raw') },
      ],
      { decode: false },
    );
    const rest = { status: 200, body: { params: { rest: 'metadata/a%2Fb/c' } } };
    expect(await call('/api/v3/metadata/a%2Fb/c')).toMatchObject(rest);
    expect(await call('/api/v3/x')).toMatchObject({ status: 200, body: { params: { rest: 'x' } } });
    expect(await call('/api/v3')).toMatchObject({ status: 404 });
    expect(await call('/raw/%41')).toMatchObject({ status: 200, body: { name: 'raw' } });
    expect(await call('/raw/A')).toMatchObject({ status: 404 });
    // Not decoded, so not malformed either.
    expect(await call('/api/v3/%E0')).toMatchObject({ status: 200, body: { params: { rest: '%E0' } } });
  });
});
