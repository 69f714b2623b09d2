import { afterEach, expect, it, vi } from 'vitest';
import { requestUrl } from '../src/request-url.js';

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
