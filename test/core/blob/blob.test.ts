import { createHash, createHmac } from 'node:crypto';
import { crc32, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import {
  blobKind,
  checkBlob,
  decodeBlob,
  encodeBlob,
  encodeEncryptedBlobWithIv,
  ENCRYPTED_HEADER_SIZE,
  MAX_BLOB_SIZE,
  PLAIN_HEADER_SIZE,
} from '../../../core/blob/data-blob.js';
import {
  COMPRESSED_BLOB_MAGIC,
  DYNAMIC_INDEX_MAGIC,
  ENCR_COMPR_BLOB_MAGIC,
  ENCRYPTED_BLOB_MAGIC,
  FIXED_INDEX_MAGIC,
  UNCOMPRESSED_BLOB_MAGIC,
} from '../../../core/blob/magic.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { expectCairnError } from '../../support/errors.js';

const hex = (s: string) => Buffer.from(s.replaceAll(' ', ''), 'hex');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();
const SPEC_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const HELLO = Buffer.from('hello');

/** Flips the bits of `mask` in byte `at` (negative: from the end). */
function flip(buf: Buffer, at: number, mask = 0x01): void {
  const i = at < 0 ? buf.length + at : at;
  buf.writeUInt8(buf.readUInt8(i) ^ mask, i);
}

/** Byte equality that stays fast (and readable on failure) for large buffers: compares length and SHA-256. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect({ length: actual.length, sha256: sha256(actual).toString('hex') }).toEqual({
    length: expected.length,
    sha256: sha256(expected).toString('hex'),
  });
}

describe('blob magics (spec 2.1)', () => {
  it('are the spec bytes', () => {
    expect(UNCOMPRESSED_BLOB_MAGIC.toString('hex')).toBe('42ab3807be8370a1');
    expect(COMPRESSED_BLOB_MAGIC.toString('hex')).toBe('31b958426fb6a37f');
    expect(ENCRYPTED_BLOB_MAGIC.toString('hex')).toBe('7b6785be222d4cf0');
    expect(ENCR_COMPR_BLOB_MAGIC.toString('hex')).toBe('e6591bbf0bbfd80b');
    expect(FIXED_INDEX_MAGIC.toString('hex')).toBe('2f7f41ed91fd0fcd');
    expect(DYNAMIC_INDEX_MAGIC.toString('hex')).toBe('1c914ea519bab3cd');
    // The decimal form the PBS source uses, as a second spelling of the same bytes.
    expect([...UNCOMPRESSED_BLOB_MAGIC]).toEqual([66, 171, 56, 7, 190, 131, 112, 161]);
    expect([...ENCR_COMPR_BLOB_MAGIC]).toEqual([230, 89, 27, 191, 11, 191, 216, 11]);
  });

  it('blobKind recognises each magic and nothing else', () => {
    expect(blobKind(Buffer.concat([UNCOMPRESSED_BLOB_MAGIC, Buffer.alloc(4)]))).toBe('uncompressed');
    expect(blobKind(Buffer.concat([COMPRESSED_BLOB_MAGIC, Buffer.alloc(4)]))).toBe('compressed');
    expect(blobKind(Buffer.concat([ENCRYPTED_BLOB_MAGIC, Buffer.alloc(36)]))).toBe('encrypted');
    expect(blobKind(Buffer.concat([ENCR_COMPR_BLOB_MAGIC, Buffer.alloc(36)]))).toBe('encrypted-compressed');
    expect(blobKind(FIXED_INDEX_MAGIC)).toBeUndefined();
    expect(blobKind(UNCOMPRESSED_BLOB_MAGIC.subarray(0, 7))).toBeUndefined();
    // A magic found at a non-zero byteOffset of a larger buffer.
    const framed = Buffer.concat([Buffer.from('xyz'), COMPRESSED_BLOB_MAGIC, Buffer.alloc(4)]);
    expect(blobKind(framed.subarray(3))).toBe('compressed');
  });
});

describe('blob test vectors (spec Appendix A.1, 11.2)', () => {
  it('encodes the empty payload as magic + CRC 0', () => {
    const blob = encodeBlob(Buffer.alloc(0), { compress: false });
    expect(blob.toString('hex')).toBe('42ab3807be8370a100000000');
    // Compression is not attempted for an empty payload either.
    expect(encodeBlob(Buffer.alloc(0), { compress: true }).toString('hex')).toBe('42ab3807be8370a100000000');
    expect(decodeBlob(blob)).toEqual(Buffer.alloc(0));
  });

  it('encodes "hello" uncompressed exactly', () => {
    expect(encodeBlob(HELLO, { compress: false }).toString('hex')).toBe('42ab3807be8370a1' + '86a61036' + '68656c6c6f');
    // Too small to compress: zstd's frame is bigger than 5 bytes, so the plain form is kept.
    expect(encodeBlob(HELLO, { compress: true }).toString('hex')).toBe('42ab3807be8370a186a6103668656c6c6f');
  });

  it('has the spec SHA-256, id_key and keyed digest', () => {
    expect(sha256(HELLO).toString('hex')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    const crypt = new CryptConfig(SPEC_KEY);
    expect(crypt.idKey.toString('hex')).toBe('7c2c013efd07f3b25717a485263343cd4d292a4b65c200bb3b18ea227abe225c');
    expect(crypt.digest(HELLO).toString('hex')).toBe(
      'e34178a27b992c4a218599bf7f43ed50bc464a03d624d9092306fe2ed74d557e',
    );
  });

  it('encrypts "hello" with IV 00..0f to the spec bytes and decodes it back', () => {
    const crypt = new CryptConfig(SPEC_KEY);
    const iv = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
    const blob = encodeEncryptedBlobWithIv(HELLO, crypt, iv);
    expect(blob.toString('hex')).toBe(
      hex(
        '7b6785be222d4cf0 784eea93 000102030405060708090a0b0c0d0e0f 0c84c431837297c0b19e77e5608162ea 0f09cc1a56',
      ).toString('hex'),
    );
    expect(blob.length).toBe(ENCRYPTED_HEADER_SIZE + 5);
    expect(decodeBlob(blob, { crypt, digest: crypt.digest(HELLO) })).toEqual(HELLO);
  });

  it('gives the spec key fingerprint', () => {
    expect(sha256('Proxmox Backup Encryption Key Fingerprint').toString('hex')).toBe(
      '6ed0ef77471fff4d55c7a8fe4a9db62161407f134c725ddf30992d25ec45ed26',
    );
    expect(new CryptConfig(SPEC_KEY).fingerprint()).toBe(
      '0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b',
    );
  });

  it('signs with HMAC-SHA256 keyed by id_key, and rejects keys that are not 32 bytes', () => {
    const idKey = hex('7c2c013efd07f3b25717a485263343cd4d292a4b65c200bb3b18ea227abe225c');
    expect(new CryptConfig(SPEC_KEY).hmac('{"a":1}')).toEqual(createHmac('sha256', idKey).update('{"a":1}').digest());
    expectCairnError(() => new CryptConfig(Buffer.alloc(31)), 'INVALID_ARGUMENT', /32 bytes, got 31/);
    expectCairnError(() => new CryptConfig(Buffer.alloc(33)), 'INVALID_ARGUMENT', /32 bytes, got 33/);
  });
});

describe('blob round trips', () => {
  const crypt = new CryptConfig(pseudoRandomBytes(32, 'blob-key'));
  const text = textBytes(200_000);
  const random = pseudoRandomBytes(100_000, 'blob-random');

  it('uncompressed: header, CRC over the payload, payload verbatim', () => {
    const blob = encodeBlob(random, { compress: false });
    expect(blob.subarray(0, 8)).toEqual(UNCOMPRESSED_BLOB_MAGIC);
    expect(blob.readUInt32LE(8)).toBe(crc32(random));
    expectSameBytes(blob.subarray(PLAIN_HEADER_SIZE), random);
    expect(checkBlob(blob)).toEqual({ kind: 'uncompressed', headerSize: PLAIN_HEADER_SIZE });
    expectSameBytes(decodeBlob(blob, { digest: sha256(random), length: random.length }), random);
  });

  it('compressed: text gets the compressed magic, a zstd payload and a smaller blob', () => {
    const blob = encodeBlob(text, { compress: true });
    expect(blobKind(blob)).toBe('compressed');
    expect(blob.length).toBeLessThan(text.length / 2);
    // The payload is one standard zstd frame (magic 28 b5 2f fd), and the CRC covers the compressed bytes.
    expect(blob.subarray(12, 16).toString('hex')).toBe('28b52ffd');
    expect(blob.readUInt32LE(8)).toBe(crc32(blob.subarray(12)));
    expectSameBytes(decodeBlob(blob, { digest: sha256(text), length: text.length }), text);
  });

  it('keeps random data uncompressed even when compression is asked for', () => {
    const blob = encodeBlob(random, { compress: true });
    expect(blobKind(blob)).toBe('uncompressed');
    expect(blob.length).toBe(PLAIN_HEADER_SIZE + random.length);
    expectSameBytes(blob.subarray(PLAIN_HEADER_SIZE), random);
    const encrypted = encodeBlob(random, { compress: true, crypt });
    expect(blobKind(encrypted)).toBe('encrypted');
    expect(encrypted.length).toBe(ENCRYPTED_HEADER_SIZE + random.length);
  });

  it('encrypted: random IV per blob, CRC over the ciphertext only, decodes with the keyed digest', () => {
    const a = encodeBlob(text, { compress: false, crypt });
    const b = encodeBlob(text, { compress: false, crypt });
    expect(blobKind(a)).toBe('encrypted');
    expect(a.length).toBe(ENCRYPTED_HEADER_SIZE + text.length);
    expect(a.subarray(12, 28)).not.toEqual(b.subarray(12, 28));
    expect(a.readUInt32LE(8)).toBe(crc32(a.subarray(ENCRYPTED_HEADER_SIZE)));
    expect(a.subarray(ENCRYPTED_HEADER_SIZE).equals(text)).toBe(false);
    expect(checkBlob(a)).toEqual({ kind: 'encrypted', headerSize: ENCRYPTED_HEADER_SIZE });
    expectSameBytes(decodeBlob(a, { crypt, digest: crypt.digest(text) }), text);
    expectSameBytes(decodeBlob(b, { crypt, digest: crypt.digest(text) }), text);
  });

  it('encrypted + compressed: compresses before encrypting', () => {
    const blob = encodeBlob(text, { compress: true, crypt });
    expect(blobKind(blob)).toBe('encrypted-compressed');
    expect(blob.length).toBeLessThan(text.length / 2);
    expectSameBytes(decodeBlob(blob, { crypt, digest: crypt.digest(text) }), text);
  });

  it('empty payloads round-trip in every mode', () => {
    const empty = Buffer.alloc(0);
    for (const options of [
      { compress: false },
      { compress: true },
      { compress: false, crypt },
      { compress: true, crypt },
    ]) {
      const blob = encodeBlob(empty, options);
      expect(blob.length).toBe(options.crypt ? ENCRYPTED_HEADER_SIZE : PLAIN_HEADER_SIZE);
      expect(blob.readUInt32LE(8)).toBe(0);
      const digest = options.crypt ? crypt.digest(empty) : sha256(empty);
      expect(decodeBlob(blob, { crypt, digest })).toEqual(empty);
    }
  });

  it('decodes a blob that sits at an offset inside a larger buffer, and returns a detached copy', () => {
    const blob = encodeBlob(HELLO, { compress: false });
    const big = Buffer.concat([Buffer.from('garbage-before'), blob, Buffer.from('after')]);
    const view = big.subarray(14, 14 + blob.length);
    const plain = decodeBlob(view, { digest: sha256(HELLO), length: 5 });
    expect(plain).toEqual(HELLO);
    big.fill(0);
    expect(plain).toEqual(HELLO);
  });

  it('accepts the largest payload and refuses one byte more', () => {
    const max = Buffer.alloc(MAX_BLOB_SIZE);
    const blob = encodeBlob(max, { compress: true });
    expect(blobKind(blob)).toBe('compressed');
    expect(decodeBlob(blob, { length: MAX_BLOB_SIZE }).length).toBe(MAX_BLOB_SIZE);
    const tooBig = Buffer.alloc(MAX_BLOB_SIZE + 1);
    expectCairnError(
      () => encodeBlob(tooBig, { compress: false }),
      'INVALID_ARGUMENT',
      /134217729 bytes exceeds the 134217728/,
    );
    // A compressed blob that would inflate beyond the limit is refused on decode, not allocated.
    const z = zstdCompressSync(tooBig);
    const bomb = Buffer.concat([COMPRESSED_BLOB_MAGIC, Buffer.alloc(4), z]);
    bomb.writeUInt32LE(crc32(z), 8);
    expectCairnError(
      () => decodeBlob(bomb, { what: 'bomb.blob' }),
      'CORRUPT',
      /^bomb\.blob: zstd payload does not decode/,
    );
  });
});

describe('blob decode of every size', () => {
  // The decoder sizes zstd's output buffer from the expected length (never below zlib's 16 KiB piece): tiny
  // chunks (a stream's last one, under zlib's 64-byte minimum) and those around the piece size all decode whole.
  const crypt = new CryptConfig(pseudoRandomBytes(32, 'blob-key-sizes'));
  const sizes = [20, 63, 64, 65, 200, 4095, 4096, 16383, 16384, 16385, (1 << 20) + 3];

  it.each(sizes)('a compressed blob of %i bytes, plain and encrypted', (size) => {
    const data = Buffer.from('ab'.repeat(size).slice(0, size));
    const plain = encodeBlob(data, { compress: true });
    expect(blobKind(plain)).toBe('compressed');
    expectSameBytes(decodeBlob(plain, { length: size, digest: sha256(data) }), data);
    const sealed = encodeBlob(data, { compress: true, crypt });
    expect(blobKind(sealed)).toBe('encrypted-compressed');
    expectSameBytes(decodeBlob(sealed, { crypt, length: size, digest: crypt.digest(data) }), data);
  });

  it('an expected length that is too small still decodes all of it, then says the length is wrong', () => {
    const data = textBytes(50_000, 3);
    const blob = encodeBlob(data, { compress: true });
    expectCairnError(
      () => decodeBlob(blob, { length: 10 }),
      'CORRUPT',
      /decoded length 50000 differs from the expected 10/,
    );
  });
});

describe('blob decode errors', () => {
  const crypt = new CryptConfig(pseudoRandomBytes(32, 'blob-key-2'));
  const data = textBytes(50_000, 7);

  it('rejects an unknown magic, naming the blob and the bytes', () => {
    const blob = encodeBlob(data, { compress: true });
    flip(blob, 0, 0xff);
    expectCairnError(
      () => decodeBlob(blob, { what: 'chunk abc' }),
      'CORRUPT',
      /^chunk abc: unknown blob magic ceb958426fb6a37f/,
    );
    expectCairnError(() => decodeBlob(Buffer.alloc(20)), 'CORRUPT', /^blob: unknown blob magic 0000000000000000/);
  });

  it('rejects a blob shorter than its header', () => {
    expectCairnError(() => decodeBlob(Buffer.alloc(0)), 'CORRUPT', /truncated \(0 bytes, no blob header\)/);
    expectCairnError(
      () => decodeBlob(UNCOMPRESSED_BLOB_MAGIC.subarray(0, 7)),
      'CORRUPT',
      /truncated \(7 bytes, no blob header\)/,
    );
    const plain = encodeBlob(HELLO, { compress: false });
    expectCairnError(
      () => decodeBlob(plain.subarray(0, 11), { what: 'x.blob' }),
      'CORRUPT',
      /^x\.blob: truncated \(11 bytes, header needs 12\)/,
    );
    const encrypted = encodeBlob(HELLO, { compress: false, crypt });
    expectCairnError(
      () => decodeBlob(encrypted.subarray(0, 43), { crypt }),
      'CORRUPT',
      /truncated \(43 bytes, header needs 44\)/,
    );
  });

  it('detects a flipped payload byte by its CRC', () => {
    for (const options of [{ compress: false }, { compress: true }, { compress: true, crypt }]) {
      const blob = encodeBlob(data, options);
      const stored = blob.readUInt32LE(8);
      flip(blob, -100, 0x01);
      const err = expectCairnError(
        () => decodeBlob(blob, { crypt, what: 'chunk 1234' }),
        'CORRUPT',
        /^chunk 1234: CRC mismatch/,
      );
      expect(err.message).toContain(`stored ${stored.toString(16).padStart(8, '0')}`);
      expect(() => checkBlob(blob)).toThrow(/CRC mismatch/);
    }
  });

  it('with crcOnFailure, reports a damaged blob by its CRC as before, and skips the CRC only where the digest or the tag covers the bytes', () => {
    const plainDigest = sha256(data);
    const cases = [
      { encode: { compress: false }, digest: plainDigest },
      { encode: { compress: true }, digest: plainDigest },
      { encode: { compress: true, crypt }, digest: crypt.digest(data) },
      { encode: { compress: false, crypt }, digest: undefined }, // the tag covers it
    ];
    for (const { encode, digest } of cases) {
      const options = { crypt, digest, what: 'chunk 1234', crcOnFailure: true };
      const sound = encodeBlob(data, encode);
      expect(decodeBlob(sound, options)).toEqual(data);
      const damaged = Buffer.from(sound);
      flip(damaged, -100, 0x01);
      expectCairnError(() => decodeBlob(damaged, options), 'CORRUPT', /^chunk 1234: CRC mismatch/);
      // Only the CRC field is wrong: the bytes are proven sound by the digest or tag, and verify (CRC first) refuses it.
      const wrongCrc = Buffer.from(sound);
      wrongCrc[8] = wrongCrc[8]! ^ 1;
      expect(decodeBlob(wrongCrc, options)).toEqual(data);
      expectCairnError(() => decodeBlob(wrongCrc, { ...options, crcOnFailure: false }), 'CORRUPT', /CRC mismatch/);
    }
    // Nothing else covers a plain blob read without its digest: the CRC comes first.
    const wrongCrc = encodeBlob(data, { compress: true });
    wrongCrc[8] = wrongCrc[8]! ^ 1;
    expectCairnError(() => decodeBlob(wrongCrc, { crcOnFailure: true }), 'CORRUPT', /CRC mismatch/);
    expectCairnError(
      () =>
        decodeBlob(encodeBlob(data, { compress: true }).subarray(0, 11), { digest: plainDigest, crcOnFailure: true }),
      'CORRUPT',
      /truncated/,
    );
  });

  it('detects a wrong stored CRC', () => {
    const blob = encodeBlob(HELLO, { compress: false });
    blob.writeUInt32LE(0x12345678, 8);
    expectCairnError(() => decodeBlob(blob), 'CORRUPT', /CRC mismatch \(stored 12345678, computed 3610a686\)/);
  });

  it('detects a digest mismatch and a length mismatch after decoding', () => {
    const blob = encodeBlob(data, { compress: true });
    const wrong = sha256('something else');
    expectCairnError(
      () => decodeBlob(blob, { digest: wrong, what: 'chunk ff' }),
      'CORRUPT',
      new RegExp(`^chunk ff: digest mismatch \\(content hashes to ${sha256(data).toString('hex')}\\)`),
    );
    expectCairnError(
      () => decodeBlob(blob, { length: data.length + 1 }),
      'CORRUPT',
      new RegExp(`decoded length ${data.length} differs from the expected ${data.length + 1}`),
    );
    expectSameBytes(decodeBlob(blob, { length: data.length, digest: sha256(data) }), data);
  });

  it('rejects a compressed blob whose payload is not zstd, even with a valid CRC', () => {
    const garbage = pseudoRandomBytes(300, 'not-zstd');
    const blob = Buffer.concat([COMPRESSED_BLOB_MAGIC, Buffer.alloc(4), garbage]);
    blob.writeUInt32LE(crc32(garbage), 8);
    expect(checkBlob(blob).kind).toBe('compressed');
    expectCairnError(
      () => decodeBlob(blob, { what: 'index.json.blob' }),
      'CORRUPT',
      /^index\.json\.blob: zstd payload does not decode/,
    );
    // A truncated zstd frame (CRC recomputed) is just as invalid.
    const good = encodeBlob(data, { compress: true });
    const cut = Buffer.from(good.subarray(0, good.length - 10));
    cut.writeUInt32LE(crc32(cut.subarray(12)), 8);
    expectCairnError(() => decodeBlob(cut), 'CORRUPT', /zstd payload does not decode/);
  });

  it('refuses to decode an encrypted blob without a key, and fails clearly with the wrong key', () => {
    for (const compress of [false, true]) {
      const blob = encodeBlob(data, { compress, crypt });
      expectCairnError(
        () => decodeBlob(blob, { what: 'chunk 77' }),
        'INVALID_ARGUMENT',
        /^chunk 77: encrypted, but no key was given/,
      );
      const other = new CryptConfig(pseudoRandomBytes(32, 'other-key'));
      expectCairnError(
        () => decodeBlob(blob, { crypt: other }),
        'CORRUPT',
        /decryption failed: wrong key or corrupt data/,
      );
    }
  });

  it("checks an encrypted blob's length when no digest is checked (another blob of the key cannot stand in)", () => {
    const crypt = new CryptConfig(SPEC_KEY);
    const data = textBytes(5000, 7);
    const blob = encodeBlob(data, { compress: true, crypt });
    expect(decodeBlob(blob, { crypt, length: data.length }).equals(data)).toBe(true);
    expectCairnError(
      () => decodeBlob(blob, { crypt, length: data.length + 1, what: 'chunk 12' }),
      'CORRUPT',
      /^chunk 12: decoded length 5000 differs from the expected 5001$/,
    );
    // With its digest checked, the length is left to the digest, as PBS does.
    expect(decodeBlob(blob, { crypt, length: data.length + 1, digest: crypt.digest(data) }).equals(data)).toBe(true);
  });

  it('detects tampering with the IV or tag, which the CRC does not cover', () => {
    const blob = encodeBlob(data, { compress: true, crypt });
    for (const at of [12, 27, 28, 43]) {
      const copy = Buffer.from(blob);
      flip(copy, at, 0x80);
      expect(checkBlob(copy).kind).toBe('encrypted-compressed');
      expectCairnError(() => decodeBlob(copy, { crypt }), 'CORRUPT', /decryption failed/);
    }
  });

  it('checks an encrypted blob against the keyed digest, not the plain SHA-256', () => {
    const blob = encodeBlob(data, { compress: false, crypt });
    expectSameBytes(decodeBlob(blob, { crypt, digest: crypt.digest(data) }), data);
    expectCairnError(() => decodeBlob(blob, { crypt, digest: sha256(data) }), 'CORRUPT', /digest mismatch/);
    // A plain blob decoded while a key is at hand is still checked with plain SHA-256.
    const plain = encodeBlob(data, { compress: true });
    expectSameBytes(decodeBlob(plain, { crypt, digest: sha256(data) }), data);
    expectCairnError(() => decodeBlob(plain, { crypt, digest: crypt.digest(data) }), 'CORRUPT', /digest mismatch/);
  });
});
