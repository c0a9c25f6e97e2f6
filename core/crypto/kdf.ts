import { pbkdf2, randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * How a key file turns a passphrase into the 32-byte key that encrypts the key (pbs-key-config's lib.rs,
 * `KeyDerivationConfig`): serde's externally tagged enum, so the variant names `Scrypt` and `PBKDF2` are the keys.
 */
export type KeyDerivation =
  { Scrypt: { n: number; r: number; p: number; salt: Buffer } } | { PBKDF2: { iter: number; salt: Buffer } };

export const KDF_KINDS = ['scrypt', 'pbkdf2', 'none'] as const;
export type KdfKind = (typeof KDF_KINDS)[number];

/** PBS runs scrypt with this memory limit: a file asking for more is refused, not obeyed. */
const SCRYPT_MAX_MEMORY = 1025 * 1024 * 1024;
const SALT_BYTES = 32;

const scryptAsync = promisify(scrypt) as (
  password: Uint8Array,
  salt: Uint8Array,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

/** PBS's parameters for a new key: scrypt N=65536 r=8 p=1, or PBKDF2-HMAC-SHA256 with 65535 rounds; a 32-byte salt. */
export function newKeyDerivation(kind: 'scrypt' | 'pbkdf2'): KeyDerivation {
  const salt = randomBytes(SALT_BYTES);
  return kind === 'scrypt' ? { Scrypt: { n: 65536, r: 8, p: 1, salt } } : { PBKDF2: { iter: 65535, salt } };
}

export function kdfKind(kdf: KeyDerivation | null): KdfKind {
  if (kdf === null) return 'none';
  return 'Scrypt' in kdf ? 'scrypt' : 'pbkdf2';
}

/** The 32-byte key derived from the passphrase; off the main thread (scrypt takes ~100 ms and 64 MiB). */
export async function deriveKey(kdf: KeyDerivation, passphrase: Uint8Array): Promise<Buffer> {
  if ('Scrypt' in kdf) {
    const { n, r, p, salt } = kdf.Scrypt;
    return scryptAsync(passphrase, salt, 32, { N: n, r, p, maxmem: SCRYPT_MAX_MEMORY });
  }
  return pbkdf2Async(passphrase, kdf.PBKDF2.salt, kdf.PBKDF2.iter, 32, 'sha256');
}
