import {
  BACKUP_TYPES,
  isBackupTimeString,
  isValidBackupId,
  parseBackupTime,
  type BackupType,
  type SnapshotRef,
} from '../backup/backup-names.js';
import { MANIFEST_NAME } from '../backup/manifest.js';
import { isHexDigest } from '../chunk-store/digest.js';

/**
 * Where things are in a remote, below its prefix: the datastore's own layout (docs/FORMAT.md), blobs byte for byte
 * as on disk, so a bucket copied to a disk with any S3 tool opens as a store; and Cairn's bookkeeping under
 * `.cairn/` (docs/REMOTES.md).
 */
export const CHUNKS_PREFIX = '.chunks/';
export const STORE_CONFIG_KEY = '.cairn-store.json';
export const SESSIONS_PREFIX = '.cairn/sessions/';
export const CHECK_PREFIX = '.cairn/check/';

export function chunkKey(hex: string): string {
  return `${CHUNKS_PREFIX}${hex.slice(0, 4)}/${hex}`;
}

/** The digest a chunk key names, or undefined for anything else under `.chunks/` (a `.bad` copy, a tmp file). */
export function chunkOfKey(key: string): string | undefined {
  const name = key.slice(CHUNKS_PREFIX.length + 5);
  return key.length === CHUNKS_PREFIX.length + 5 + 64 &&
    isHexDigest(name) &&
    key.slice(CHUNKS_PREFIX.length, CHUNKS_PREFIX.length + 4) === name.slice(0, 4)
    ? name
    : undefined;
}

export function snapshotPrefix(ref: SnapshotRef, time: string): string {
  return `${ref.type}/${ref.id}/${time}/`;
}

export function groupFileKey(type: BackupType, id: string, name: string): string {
  return `${type}/${id}/${name}`;
}

/** A key `type/id/time/file` split up, or undefined when it is not one (group files, strays). */
export function snapshotFileOfKey(key: string): { ref: SnapshotRef; file: string } | undefined {
  const parts = key.split('/');
  if (parts.length !== 4) return undefined;
  const [type, id, time, file] = parts as [string, string, string, string];
  if (!(BACKUP_TYPES as readonly string[]).includes(type) || !isValidBackupId(id) || !isBackupTimeString(time))
    return undefined;
  return { ref: { type: type as BackupType, id, time: parseBackupTime(time) }, file };
}

export { MANIFEST_NAME };
