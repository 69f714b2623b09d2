import type axios from 'axios';
import { describe, expectTypeOf, it } from 'vitest';
import type { AuthSession } from '@auth/core';
import { attachAuth, type AttachAuthOptions } from '../src/index.js';

describe('public types', () => {
  it('attachAuth returns a detach function; skipAuth is part of the axios config', () => {
    expectTypeOf(attachAuth).parameters.toEqualTypeOf<
      [ReturnType<typeof axios.create>, AuthSession, AttachAuthOptions?]
    >();
    expectTypeOf(attachAuth).returns.toEqualTypeOf<() => void>();
    expectTypeOf<{ skipAuth: true }>().toMatchTypeOf<Parameters<typeof axios.get>[1] & object>();
    expectTypeOf<{
      limiter: { maxConcurrent: 2 };
      retryRateLimited: false;
      origins: ['https://a.test'];
    }>().toMatchTypeOf<AttachAuthOptions>();
    // @ts-expect-error retryRateLimited takes options or false, not true
    expectTypeOf<{ retryRateLimited: true }>().toMatchTypeOf<AttachAuthOptions>();
  });
});
