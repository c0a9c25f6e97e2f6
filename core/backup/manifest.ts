import { timingSafeEqual } from 'node:crypto';
import { decodeBlob, encodeBlob } from '../blob/data-blob.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import { normalFingerprint, shortFingerprint } from '../crypto/fingerprint.js';
import { CairnError } from '../errors.js';
import { assertArchiveFileName, assertBackupId, assertBackupType, type SnapshotRef } from './backup-names.js';

export const MANIFEST_NAME = 'index.json.blob';

export type CryptMode = 'none' | 'encrypt' | 'sign-only';

export interface ManifestFile {
  filename: string;
  'crypt-mode': CryptMode;
  /** Logical size for indexes; encoded length for blobs. */
  size: number;
  /** index_csum for indexes; SHA-256 of the encoded bytes for blobs. */
  csum: string;
}

export interface VerifyState {
  upid: string;
  state: 'ok' | 'failed';
}

/** The part of the manifest the server may change after the backup (not signed). */
export interface ManifestUnprotected {
  notes?: string;
  verify_state?: VerifyState;
  chunk_upload_stats?: { count: number; size: number; compressed_size: number; duplicates: number };
  'key-fingerprint'?: string;
  [key: string]: unknown;
}

export interface Manifest {
  'backup-type': SnapshotRef['type'];
  'backup-id': string;
  'backup-time': number;
  files: ManifestFile[];
  unprotected: ManifestUnprotected;
  signature?: string | null;
}

export function newManifest(snapshot: SnapshotRef): Manifest {
  return {
    'backup-type': snapshot.type,
    'backup-id': snapshot.id,
    'backup-time': snapshot.time,
    files: [],
    unprotected: {},
  };
}

/** The manifest blob: pretty JSON (2-space indent), zstd-compressed, never encrypted (spec 5.3). */
export function encodeManifest(manifest: Manifest): Buffer {
  return encodeBlob(Buffer.from(JSON.stringify(manifest, null, 2)), { compress: true });
}

export function decodeManifest(raw: Uint8Array, what: string): Manifest {
  const text = decodeBlob(raw, { what }).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CairnError('CORRUPT', `${what}: manifest is not valid JSON`, { cause: err });
  }
  return validateManifest(value, what);
}

function validateManifest(value: unknown, what: string): Manifest {
  const bad = (why: string): never => {
    throw new CairnError('CORRUPT', `${what}: invalid manifest (${why})`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('not an object');
  const m = value as Record<string, unknown>;
  if (typeof m['backup-type'] !== 'string' || typeof m['backup-id'] !== 'string')
    bad('backup-type or backup-id is not a string');
  try {
    assertBackupType(String(m['backup-type']));
    assertBackupId(String(m['backup-id']));
  } catch (err) {
    bad((err as Error).message);
  }
  if (!Number.isSafeInteger(m['backup-time'])) bad('backup-time is not an integer');
  if (!Array.isArray(m.files)) bad('files is not a list');
  for (const f of m.files as unknown[]) {
    const file = f as Record<string, unknown>;
    if (typeof file !== 'object' || file === null) bad('a file entry is not an object');
    if (typeof file.filename !== 'string') bad('a file entry has no filename');
    try {
      assertArchiveFileName(String(file.filename));
    } catch (err) {
      bad((err as Error).message);
    }
    file['crypt-mode'] ??= 'none';
    if (!['none', 'encrypt', 'sign-only'].includes(String(file['crypt-mode'])))
      bad(`unknown crypt-mode of ${String(file.filename)}`);
    if (!Number.isSafeInteger(file.size) || (file.size as number) < 0) bad(`size of ${String(file.filename)}`);
    if (typeof file.csum !== 'string' || !/^[0-9a-f]{64}$/.test(file.csum)) bad(`csum of ${String(file.filename)}`);
  }
  if (m.unprotected === undefined || m.unprotected === null) m.unprotected = {};
  if (typeof m.unprotected !== 'object' || Array.isArray(m.unprotected)) bad('unprotected is not an object');
  // What Cairn reads of the unprotected part (not signed, not needed to restore) is used only when it has the
  // right shape: notes that are not text, or a verify state that is none, count as absent.
  const u = m.unprotected as Record<string, unknown>;
  if (u.notes !== undefined && typeof u.notes !== 'string') delete u.notes;
  const state = u.verify_state as Record<string, unknown> | undefined;
  if (
    state !== undefined &&
    (typeof state !== 'object' || state === null || !['ok', 'failed'].includes(String(state.state)))
  ) {
    delete u.verify_state;
  }
  return m as unknown as Manifest;
}

/** Canonical JSON: keys sorted by code unit, recursively, no whitespace; null is not allowed (spec 11.4). */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined)
    throw new CairnError('INVALID_ARGUMENT', 'canonical JSON cannot contain null');
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** HMAC-SHA256 with id_key over the canonical manifest without `unprotected` and `signature`. */
export function manifestSignature(manifest: Manifest, crypt: CryptConfig): string {
  const { unprotected: _u, signature: _s, ...signed } = manifest;
  return crypt.hmac(canonicalJson(signed)).toString('hex');
}

/** Signs as PBS's client does (`BackupManifest::to_string`): the signature, and the key's fingerprint in `unprotected`. */
export function signManifest(manifest: Manifest, crypt: CryptConfig): void {
  manifest.signature = manifestSignature(manifest, crypt);
  manifest.unprotected['key-fingerprint'] = crypt.fingerprint();
}

/**
 * Checks a manifest against a key as PBS does (`BackupManifest::from_data`): the key must be the one its
 * `key-fingerprint` names (INVALID_ARGUMENT: another key), and the signature must match (CORRUPT). A manifest
 * without signature is 'unsigned', which PBS accepts too; the caller decides what that means for it.
 */
export function verifyManifestSignature(manifest: Manifest, crypt: CryptConfig, what: string): 'valid' | 'unsigned' {
  const signature = manifest.signature;
  if (typeof signature !== 'string') return 'unsigned';
  checkKeyFingerprint(manifest, crypt, what);
  const expected = Buffer.from(manifestSignature(manifest, crypt), 'hex');
  const valid = /^[0-9a-f]{64}$/.test(signature) && timingSafeEqual(Buffer.from(signature, 'hex'), expected);
  if (!valid) throw new CairnError('CORRUPT', `${what}: wrong signature: the manifest was changed after it was signed`);
  return 'valid';
}

function checkKeyFingerprint(manifest: Manifest, crypt: CryptConfig, what: string): void {
  const recorded = manifest.unprotected['key-fingerprint'];
  if (recorded === undefined || recorded === null) return;
  const fingerprint = typeof recorded === 'string' ? normalFingerprint(recorded) : undefined;
  if (fingerprint === undefined) throw new CairnError('CORRUPT', `${what}: key-fingerprint is not a fingerprint`);
  const ours = crypt.fingerprint();
  if (fingerprint !== ours)
    throw new CairnError(
      'INVALID_ARGUMENT',
      `${what} was signed with the key ${shortFingerprint(fingerprint)}, not with this key (${shortFingerprint(ours)})`,
    );
}
