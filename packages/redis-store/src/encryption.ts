import { TokenDecryptionError } from './errors.js';

/**
 * AES-GCM key for tokens at rest: 16, 24 or 32 raw bytes, or a WebCrypto `CryptoKey` for `AES-GCM`.
 *
 * @example
 * const key: EncryptionKey = Buffer.from(process.env.TOKENS_KEY!, 'base64'); // 32 bytes
 * const store = redisTokenStore({ redis, encryption: { key } });
 */
export type EncryptionKey = Uint8Array | CryptoKey;

const PREFIX = 'gcm1:';

/**
 * Encrypts and decrypts stored token sets with AES-GCM (random 96-bit IV per write, the Redis key as associated data).
 */
export class TokenCipher {
  readonly #key: Promise<CryptoKey>;

  constructor(key: EncryptionKey) {
    const subtle = globalThis.crypto?.subtle;
    if (!subtle) throw new TypeError('redis-store: encryption needs WebCrypto (globalThis.crypto.subtle)');
    if (key instanceof Uint8Array) {
      if (![16, 24, 32].includes(key.byteLength))
        throw new RangeError('redis-store: an AES-GCM key has 16, 24 or 32 bytes');
      this.#key = subtle.importKey('raw', key.slice(), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    } else {
      if (key?.algorithm?.name !== 'AES-GCM')
        throw new TypeError('redis-store: the encryption key must be an AES-GCM CryptoKey');
      this.#key = Promise.resolve(key);
    }
    // Reported on first use; keep an early failure from becoming an unhandled rejection.
    this.#key.catch(() => {});
  }

  async seal(plain: string, context: string): Promise<string> {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const data = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: utf8(context) },
      await this.#key,
      utf8(plain),
    );
    const out = new Uint8Array(iv.byteLength + data.byteLength);
    out.set(iv, 0);
    out.set(new Uint8Array(data), iv.byteLength);
    return PREFIX + Buffer.from(out).toString('base64');
  }

  async open(sealed: string, context: string): Promise<string> {
    if (!sealed.startsWith(PREFIX))
      throw new TokenDecryptionError(
        'redis-store: the stored tokens are not encrypted but this store expects encrypted tokens',
      );
    const bytes = new Uint8Array(Buffer.from(sealed.slice(PREFIX.length), 'base64'));
    if (bytes.byteLength < 12 + 16) throw new TokenDecryptionError('redis-store: the stored tokens are truncated');
    try {
      const plain = await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: bytes.subarray(0, 12), additionalData: utf8(context) },
        await this.#key,
        bytes.subarray(12),
      );
      return new TextDecoder().decode(plain);
    } catch (error) {
      throw new TokenDecryptionError(undefined, { cause: error });
    }
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

function utf8(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;
}
