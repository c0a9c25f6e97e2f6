import { createHash } from 'node:crypto';
import { constants as zc, crc32, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { CairnError } from '../errors.js';
import type { CryptConfig } from './crypt-config.js';
import {
  COMPRESSED_BLOB_MAGIC,
  ENCR_COMPR_BLOB_MAGIC,
  ENCRYPTED_BLOB_MAGIC,
  UNCOMPRESSED_BLOB_MAGIC,
} from './magic.js';

/** Largest payload a blob may carry (PBS's MAX_BLOB_SIZE). */
export const MAX_BLOB_SIZE = 128 * 1024 * 1024;
export const PLAIN_HEADER_SIZE = 12;
export const ENCRYPTED_HEADER_SIZE = 44;

export type BlobKind = 'uncompressed' | 'compressed' | 'encrypted' | 'encrypted-compressed';

const MAGICS: ReadonlyArray<[BlobKind, Buffer]> = [
  ['uncompressed', UNCOMPRESSED_BLOB_MAGIC],
  ['compressed', COMPRESSED_BLOB_MAGIC],
  ['encrypted', ENCRYPTED_BLOB_MAGIC],
  ['encrypted-compressed', ENCR_COMPR_BLOB_MAGIC],
];

export interface EncodeOptions {
  /** Try zstd level 1; the compressed form is kept only when it is not larger than the input. */
  compress: boolean;
  /** Encrypt with this key (AES-256-GCM); the digest must then be the keyed one. */
  crypt?: CryptConfig;
}

export interface DecodeOptions {
  crypt?: CryptConfig;
  /** Check the plaintext against this digest (SHA-256, or the keyed digest for encrypted blobs). */
  digest?: Uint8Array;
  /** Check the plaintext length (unencrypted blobs, as PBS's verify_unencrypted; any blob when no digest is given). */
  length?: number;
  /** Names the blob in error messages (a chunk digest or a file path). */
  what?: string;
  /**
   * Check the CRC only if the blob does not decode, when its bytes are covered by more than the CRC: an encrypted
   * blob's GCM tag, or the digest. A damaged blob gets the same error as with the CRC first (the CRC is looked at
   * before any other failure is reported); a sound one costs a pass less (a restore's hot path: ~3.5 % of a worker).
   * Verify leaves it off, so that a blob whose CRC field alone is damaged, which PBS would refuse, is still found.
   */
  crcOnFailure?: boolean;
}

/** Which of the four blob formats `raw` claims to be, or undefined for an unknown magic. */
export function blobKind(raw: Uint8Array): BlobKind | undefined {
  if (raw.length < 8) return undefined;
  const head = Buffer.from(raw.buffer, raw.byteOffset, 8);
  for (const [kind, magic] of MAGICS) if (head.equals(magic)) return kind;
  return undefined;
}

export function isEncryptedKind(kind: BlobKind): boolean {
  return kind === 'encrypted' || kind === 'encrypted-compressed';
}

/**
 * zstd level 1 into one output buffer that holds even incompressible data (more than ZSTD_compressBound): by
 * default zlib writes 16 KiB pieces and joins them afterwards, a copy of every chunk; measured on the bench
 * dataset's 1 MiB chunks, 900 ms against 730 ms.
 */
function zstd1(data: Uint8Array): Buffer {
  return zstdCompressSync(data, {
    params: { [zc.ZSTD_c_compressionLevel]: 1 },
    chunkSize: data.length + (data.length >> 7) + 512,
  });
}

/**
 * A blob as the two pieces it is written from: the header (magic, CRC of the payload, and an encrypted blob's IV
 * and tag) and the payload. A chunk is written with one writev of both, so the payload, zstd's own output, is
 * never copied behind a header (on the bench dataset's first backup, ~0.1 s of CPU).
 */
export interface BlobPieces {
  readonly header: Buffer;
  readonly payload: Uint8Array;
  /** Bytes of the whole blob. */
  readonly length: number;
}

function pieces(magic: Buffer, prefix: Uint8Array[], payload: Uint8Array): BlobPieces {
  const header = Buffer.allocUnsafe(12 + prefix.reduce((n, p) => n + p.length, 0));
  magic.copy(header, 0);
  header.writeUInt32LE(crc32(payload), 8);
  let at = 12;
  for (const p of prefix) {
    header.set(p, at);
    at += p.length;
  }
  return { header, payload, length: header.length + payload.length };
}

/** Encodes data as a PBS DataBlob (spec 2.3), in the two pieces a file is written from. */
export function encodeBlobPieces(data: Uint8Array, options: EncodeOptions): BlobPieces {
  if (data.length > MAX_BLOB_SIZE) {
    throw new CairnError(
      'INVALID_ARGUMENT',
      `blob payload of ${data.length} bytes exceeds the ${MAX_BLOB_SIZE} byte limit`,
    );
  }
  let payload: Uint8Array = data;
  let compressed = false;
  if (options.compress && data.length > 0) {
    const z = zstd1(data);
    if (z.length <= data.length) {
      payload = z;
      compressed = true;
    }
  }
  if (options.crypt) {
    const { iv, tag, ciphertext } = options.crypt.encrypt(payload);
    return pieces(compressed ? ENCR_COMPR_BLOB_MAGIC : ENCRYPTED_BLOB_MAGIC, [iv, tag], ciphertext);
  }
  return pieces(compressed ? COMPRESSED_BLOB_MAGIC : UNCOMPRESSED_BLOB_MAGIC, [], payload);
}

/** The pieces as one buffer. */
export function joinBlobPieces(blob: BlobPieces): Buffer {
  return Buffer.concat([blob.header, blob.payload], blob.length);
}

/** Encodes data as a PBS DataBlob (spec 2.3). */
export function encodeBlob(data: Uint8Array, options: EncodeOptions): Buffer {
  return joinBlobPieces(encodeBlobPieces(data, options));
}

/** Encrypts with a given IV: only for reproducing the spec's test vectors. */
export function encodeEncryptedBlobWithIv(data: Uint8Array, crypt: CryptConfig, iv: Uint8Array): Buffer {
  const { tag, ciphertext } = crypt.encrypt(data, iv);
  return joinBlobPieces(pieces(ENCRYPTED_BLOB_MAGIC, [iv, tag], ciphertext));
}

interface CheckedBlob {
  kind: BlobKind;
  headerSize: number;
}

/** Checks magic, size and CRC; returns the kind and header size. Does not decode. */
export function checkBlob(raw: Uint8Array, what = 'blob'): CheckedBlob {
  const kind = blobKind(raw);
  if (!kind) {
    throw new CairnError(
      'CORRUPT',
      raw.length < 8
        ? `${what}: truncated (${raw.length} bytes, no blob header)`
        : `${what}: unknown blob magic ${Buffer.from(raw.subarray(0, 8)).toString('hex')}`,
    );
  }
  const headerSize = isEncryptedKind(kind) ? ENCRYPTED_HEADER_SIZE : PLAIN_HEADER_SIZE;
  if (raw.length < headerSize) {
    throw new CairnError('CORRUPT', `${what}: truncated (${raw.length} bytes, header needs ${headerSize})`);
  }
  const stored = Buffer.from(raw.buffer, raw.byteOffset, raw.length).readUInt32LE(8);
  const actual = crc32(raw.subarray(headerSize));
  if (stored !== actual) {
    throw new CairnError('CORRUPT', `${what}: CRC mismatch (stored ${hex32(stored)}, computed ${hex32(actual)})`);
  }
  return { kind, headerSize };
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * zstd's output buffer: with the expected length known, one buffer a byte larger than the output, so the
 * output comes out in one piece (by default zlib's 16 KiB pieces are joined afterwards: a copy, and twice the
 * time of the decompression itself for a 1 MiB chunk). Never below zlib's default piece: zlib refuses buffers
 * under 64 bytes (a stream's last chunk is often shorter), and a damaged index claiming a tiny length would
 * otherwise make a large chunk decode in tiny pieces.
 */
function outputChunkSize(expected: number | undefined): number | undefined {
  if (expected === undefined || expected >= MAX_BLOB_SIZE) return undefined;
  return Math.max(zc.Z_DEFAULT_CHUNK, expected + 1);
}

/** Decodes a DataBlob: checks magic and CRC, decrypts, decompresses, then the optional digest and length. */
export function decodeBlob(raw: Uint8Array, options: DecodeOptions = {}): Buffer {
  const what = options.what ?? 'blob';
  const kind = blobKind(raw);
  const covered = kind !== undefined && (isEncryptedKind(kind) || options.digest !== undefined);
  if (!options.crcOnFailure || !covered) return decodeChecked(raw, options, checkBlob(raw, what));
  const headerSize = isEncryptedKind(kind) ? ENCRYPTED_HEADER_SIZE : PLAIN_HEADER_SIZE;
  if (raw.length < headerSize) checkBlob(raw, what); // throws: truncated
  try {
    return decodeChecked(raw, options, { kind, headerSize });
  } catch (err) {
    checkBlob(raw, what); // a damaged blob is reported as such
    throw err;
  }
}

function decodeChecked(raw: Uint8Array, options: DecodeOptions, { kind, headerSize }: CheckedBlob): Buffer {
  const what = options.what ?? 'blob';
  let payload: Buffer = Buffer.from(raw.buffer, raw.byteOffset + headerSize, raw.length - headerSize);
  if (isEncryptedKind(kind)) {
    if (!options.crypt) throw new CairnError('INVALID_ARGUMENT', `${what}: encrypted, but no key was given`);
    payload = options.crypt.decrypt(raw.subarray(12, 28), raw.subarray(28, 44), payload);
  }
  let plain: Buffer = payload;
  if (kind === 'compressed' || kind === 'encrypted-compressed') {
    try {
      plain = zstdDecompressSync(payload, {
        maxOutputLength: MAX_BLOB_SIZE,
        chunkSize: outputChunkSize(options.length),
      });
    } catch (err) {
      throw new CairnError('CORRUPT', `${what}: zstd payload does not decode (${(err as Error).message})`, {
        cause: err,
      });
    }
  } else if (plain === payload && !isEncryptedKind(kind)) {
    plain = Buffer.from(payload); // detach from the caller's buffer (readChunk reads into one it reuses)
  }
  // An encrypted blob's length is left to its digest (as PBS's verify_unencrypted), unless none is checked: then
  // another blob of the same key could stand in with a length the reader's offsets do not expect.
  const checkLength = options.length !== undefined && (!isEncryptedKind(kind) || !options.digest);
  if (checkLength && plain.length !== options.length) {
    throw new CairnError(
      'CORRUPT',
      `${what}: decoded length ${plain.length} differs from the expected ${options.length}`,
    );
  }
  if (options.digest) {
    const actual =
      options.crypt && isEncryptedKind(kind)
        ? options.crypt.digest(plain)
        : createHash('sha256').update(plain).digest();
    if (!actual.equals(options.digest)) {
      throw new CairnError('CORRUPT', `${what}: digest mismatch (content hashes to ${actual.toString('hex')})`);
    }
  }
  return plain;
}
