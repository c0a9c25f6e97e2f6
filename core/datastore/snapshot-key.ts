import type { CryptConfig } from '../blob/crypt-config.js';
import { verifyManifestSignature, type CryptMode, type Manifest } from '../backup/manifest.js';
import { normalFingerprint, shortFingerprint } from '../crypto/fingerprint.js';
import { CairnError, KeyRequiredError } from '../errors.js';
import { ENCRYPTED_KEY_BLOB } from '../crypto/master-key.js';
import type { SnapshotRef } from '../backup/backup-names.js';
import type { Datastore } from './datastore.js';
import { SnapshotReader } from './snapshot-reader.js';

/**
 * Which key a snapshot needs, and whether a given key is it (spec 11.4): `encrypt` if any archive is encrypted,
 * `sign-only` if only the manifest is signed, else `none`.
 */
export function snapshotCryptMode(manifest: Manifest): CryptMode {
  if (manifest.files.some((f) => f['crypt-mode'] === 'encrypt')) return 'encrypt';
  return typeof manifest.signature === 'string' ? 'sign-only' : 'none';
}

/** The full fingerprint of the key the manifest says it was made with, if it says (and it is one). */
export function snapshotKeyFingerprint(manifest: Manifest): string | undefined {
  const recorded = manifest.unprotected['key-fingerprint'];
  return typeof recorded === 'string' ? normalFingerprint(recorded) : undefined;
}

/** "the key ab:cd:…" (short form), or "its key" when the manifest does not name it. */
export function describeSnapshotKey(manifest: Manifest): string {
  const fingerprint = snapshotKeyFingerprint(manifest);
  return fingerprint ? `the key ${shortFingerprint(fingerprint)}` : 'its key (the manifest does not name it)';
}

/** The key a reader is given: one (the CLI's --keyfile), or those the app has unlocked, picked by fingerprint. */
export type SnapshotKeys = CryptConfig | readonly CryptConfig[] | undefined;

/** Of several keys, the one the manifest names (none: a key is still required); one key is tried as it is. */
function pickKey(manifest: Manifest, keys: SnapshotKeys): CryptConfig | undefined {
  if (keys === undefined || !Array.isArray(keys)) return keys as CryptConfig | undefined;
  const fingerprint = snapshotKeyFingerprint(manifest);
  return keys.find((k) => k.fingerprint() === fingerprint);
}

/**
 * Checks `crypt` against a snapshot before anything of it is read, and returns the key to decode it with
 * (undefined for a plain snapshot: a key given for it is not needed). An encrypted snapshot without a key, with
 * another key, or whose manifest signature does not verify (or is missing) is refused: a wrong key must never
 * produce output.
 */
export function keyForSnapshot(manifest: Manifest, keys: SnapshotKeys, what: string): CryptConfig | undefined {
  const mode = snapshotCryptMode(manifest);
  const crypt = pickKey(manifest, keys);
  if (mode === 'none') return undefined;
  if (!crypt) {
    if (mode === 'sign-only') return undefined; // plain data; the signature can only be checked with the key
    throw new KeyRequiredError(
      snapshotKeyFingerprint(manifest),
      `${what} is encrypted with ${describeSnapshotKey(manifest)}: give that key to read it`,
    );
  }
  const fingerprint = snapshotKeyFingerprint(manifest);
  if (fingerprint !== undefined && fingerprint !== crypt.fingerprint()) {
    throw new CairnError(
      'WRONG_KEY',
      `${what} was made with the key ${shortFingerprint(fingerprint)}, not with the key given (${shortFingerprint(crypt.fingerprint())})`,
    );
  }
  if (verifyManifestSignature(manifest, crypt, what) === 'unsigned') {
    throw new CairnError('CORRUPT', `${what}: its archives are encrypted but its manifest is not signed; refused`);
  }
  return mode === 'encrypt' ? crypt : undefined;
}

/**
 * The payload of a snapshot's `rsa-encrypted.key.blob` (checked against the manifest), read without the key it
 * holds: the blob is plain. NOT_FOUND when the backup was made without a master key.
 */
export function masterKeyBlobOf(store: Datastore, ref: SnapshotRef): Buffer {
  const manifest = store.readManifest(ref);
  const reader = new SnapshotReader(ref, store.snapshotDir(ref), manifest, store.chunks);
  if (!manifest.files.some((f) => f.filename === ENCRYPTED_KEY_BLOB))
    throw new CairnError(
      'NOT_FOUND',
      `snapshot ${reader.path} holds no ${ENCRYPTED_KEY_BLOB}: it was made without a master public key`,
    );
  return reader.readBlob(ENCRYPTED_KEY_BLOB);
}
