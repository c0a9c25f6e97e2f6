import type { BackupEncryption } from '../contract/jobs.js';
import type { SnapshotRef } from '../contract/model.js';
import { CryptConfig } from '../core/blob/crypt-config.js';
import type { Datastore } from '../core/datastore/datastore.js';
import { snapshotKeyFingerprint } from '../core/datastore/snapshot-key.js';
import { shortFingerprint, normalFingerprint } from '../core/crypto/fingerprint.js';
import { KeyRequiredError } from '../core/errors.js';

/**
 * The keys a worker thread got from the host (raw bytes, structured-cloned inside the process), as CryptConfigs.
 * They live as long as the job or the query; nothing here writes them anywhere.
 */
export function keysFromRaw(raw: readonly Uint8Array[] | undefined): CryptConfig[] {
  return (raw ?? []).map((bytes) => new CryptConfig(bytes));
}

/** The key a backup encrypts with; the host checked it was unlocked, so a missing one is a locked-meanwhile race. */
export function encryptionKey(
  encrypt: BackupEncryption | undefined,
  keys: readonly CryptConfig[],
): CryptConfig | undefined {
  if (!encrypt) return undefined;
  const fp = normalFingerprint(encrypt.fingerprint);
  const crypt = keys.find((k) => k.fingerprint() === fp);
  if (!crypt)
    throw new KeyRequiredError(fp, `the key ${shortFingerprint(fp ?? '')} is locked: unlock it to encrypt the backup`);
  return crypt;
}

/** Of the unlocked keys, the one the snapshot names (core then refuses a missing or wrong one in its words). */
export function keyForRef(store: Datastore, ref: SnapshotRef, keys: readonly CryptConfig[]): CryptConfig | undefined {
  if (keys.length === 0) return undefined;
  const fingerprint = snapshotKeyFingerprint(store.readManifest(ref));
  return keys.find((k) => k.fingerprint() === fingerprint);
}
