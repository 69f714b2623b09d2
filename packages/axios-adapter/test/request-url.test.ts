import { afterEach, expect, it, vi } from 'vitest';
import { requestUrl, targetCheck } from '../src/request-url.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

it('in a browser, a relative URL resolves against the document base URL (a <base href>), as XHR and fetch do', () => {
  vi.stubGlobal('location', { href: 'https://app.example.com/page' });
  vi.stubGlobal('document', { baseURI: 'https://cdn.example.net/assets/' });
  expect(requestUrl({ url: '/api/x' })).toBe('https://cdn.example.net/api/x');
  expect(requestUrl({ url: 'x' })).toBe('https://cdn.example.net/assets/x');
  expect(requestUrl({ baseURL: '/api', url: 'x' })).toBe('https://cdn.example.net/api/x');
  expect(requestUrl({ url: 'https://api.example.com/x' })).toBe('https://api.example.com/x');
});

it('without a document (a worker), a relative URL resolves against location', () => {
  vi.stubGlobal('location', { href: 'https://app.example.com/worker.js' });
  expect(requestUrl({ url: '/api/x' })).toBe('https://app.example.com/api/x');
});

it('remembers decisions per (baseURL, url) only where the URL does not depend on the document base', () => {
  const asked: string[] = [];
  const check = targetCheck((url) => (asked.push(url), url.startsWith('https://api.example.com/')), undefined);
  expect(check({ baseURL: 'https://api.example.com', url: '/x' })).toBe(true);
  expect(check({ baseURL: 'https://api.example.com', url: '/x' })).toBe(true);
  expect(check({ baseURL: 'https://api.example.com', url: 'https://other.example.com/x' })).toBe(false);
  expect(asked).toEqual(['https://api.example.com/x', 'https://other.example.com/x']);
  // A relative URL follows the document's base URL as it changes.
  vi.stubGlobal('document', { baseURI: 'https://api.example.com/' });
  expect(check({ url: '/y' })).toBe(true);
  vi.stubGlobal('document', { baseURI: 'https://cdn.example.net/' });
  expect(check({ url: '/y' })).toBe(false);
  expect(asked).toEqual([
    'https://api.example.com/x',
    'https://other.example.com/x',
    'https://api.example.com/y',
    'https://cdn.example.net/y',
  ]);
});
