import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  CredentialsRejectedError,
  RateLimitedError,
  createAuthHttp,
  isAuthError,
  parseRetryAfter,
  classifyStatus,
} from '@auth/core';
import { listen, sendJson } from '@auth/testing';

describe('AuthError', () => {
  it('has a stable code, status and cause, and serialises without the cause', () => {
    const cause = new Error('socket hang up with Bearer abc.def.ghi');
    const e = new CredentialsRejectedError('rejected', { status: 401, cause, strategy: 's' });
    expect(e).toBeInstanceOf(AuthError);
    expect(isAuthError(e)).toBe(true);
    expect(e.code).toBe('CREDENTIALS_REJECTED');
    expect(e.cause).toBe(cause);
    expect(e.transient).toBe(false);
    expect(JSON.stringify(e)).not.toContain('abc.def.ghi');
    expect(inspect(e)).not.toContain('abc.def.ghi');
    expect(inspect(e)).toContain('CREDENTIALS_REJECTED');
    expect(new RateLimitedError(undefined, { retryAfterMs: 5 }).toJSON()).toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
      retryAfterMs: 5,
    });
  });
});

describe('classifyStatus and Retry-After', () => {
  it('classifies auth answers', () => {
    expect(classifyStatus('login', 401)).toBe('credentials');
    expect(classifyStatus('login', 403)).toBe('credentials');
    expect(classifyStatus('refresh', 401)).toBe('refresh');
    expect(classifyStatus('login', 404)).toBe('configuration');
    expect(classifyStatus('refresh', 429)).toBe('rate-limited');
    expect(classifyStatus('login', 503)).toBe('server');
  });

  it('parses seconds and HTTP dates', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('createAuthHttp against a real server', () => {
  it('keeps secrets the server echoes out of error messages, and never follows redirects to another origin', async () => {
    const server = await listen((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://127.0.0.2:1/steal' });
        res.end();
        return;
      }
      sendJson(res, 401, { message: `Bad credentials: hunter2-secret and token abc-refresh-999` });
    });
    try {
      const http = createAuthHttp({
        fetch: (i, init) => fetch(i, init),
        timeoutMs: 2000,
        strategy: 't',
        now: Date.now,
      });
      const e = (await http({
        operation: 'login',
        url: `${server.url}/login`,
        json: { username: 'u', password: 'hunter2-secret', refresh: 'abc-refresh-999' },
      }).catch((x: unknown) => x)) as AuthError;
      expect(e.code).toBe('CREDENTIALS_REJECTED');
      expect(e.message).not.toContain('hunter2-secret');
      expect(e.message).not.toContain('abc-refresh-999');
      expect(e.message).toContain('Bad credentials');
      const r = (await http({ operation: 'login', url: `${server.url}/redirect`, json: {} }).catch(
        (x: unknown) => x,
      )) as AuthError;
      expect(r.code).toBe('CONFIGURATION');
      expect(r.status).toBe(302);
    } finally {
      await server.close();
    }
  });
});
