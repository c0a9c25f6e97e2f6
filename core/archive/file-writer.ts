import { createHash, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, lstatSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { CairnError, ioError, isCairnError } from '../errors.js';
import { writeAllSync } from '../fs/atomic-write.js';
import { asFsPath, displayName } from './names.js';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * A time for utimes, to sub-microsecond precision: seconds as a number after 1970, and before it as a numeric
 * string (Node reads a negative number as "now", and a Date holds only milliseconds).
 */
export function nsToTime(ns: bigint): number | string {
  if (ns >= 0n) return Number(ns) / 1e9;
  const abs = -ns;
  return `-${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/**
 * A short tmp name beside the target: a long file name plus a suffix could exceed the 255-byte name limit.
 * `path` is absolute; as bytes (a name that is not valid UTF-8) the tmp path is bytes too.
 */
export function restoreTmpPath(path: string | Buffer): string | Buffer {
  const name = `.cairn-${randomBytes(6).toString('hex')}.tmp`;
  if (typeof path === 'string') return join(dirname(path), name);
  return Buffer.concat([path.subarray(0, path.lastIndexOf(0x2f) + 1), Buffer.from(name)]);
}

/** What restoring one regular file needs, in a form that crosses to a worker thread. */
export interface FileRestoreJob {
  /** The job's number in its restore (workers report which ones they wrote). */
  id: number;
  /** Where to write: text, or the exact bytes when they are not valid UTF-8 (names.ts, fsPath). */
  path: string | Uint8Array;
  /** The path in the archive, as shown (names.ts, displayName). */
  archivePath: string;
  size: number;
  payloadOffset: number;
  digest: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
}

export type ExistingPolicy = 'keep' | 'overwrite';

/**
 * Writes one restored file: to a tmp sibling (O_EXCL, never following a symlink), checking it against the
 * snapshot's digest, then mode, times and (as root) owner, and a rename into place. Returns false when an
 * existing file was kept. `content` yields the file's bytes (every chunk verified by the reader as it is read).
 * `chunkDigest` is what FolderArchiveReader.chunkDigestOf gives: for a file made of whole chunks, the digest
 * made from theirs, checked before anything is written; otherwise the content's SHA-256 is checked.
 */
export function restoreFile(job: FileRestoreJob, content: Iterable<Uint8Array>, existing: ExistingPolicy,
  onBytes: (n: number) => void, chunkDigest?: Uint8Array): boolean {
  const path = asFsPath(job.path);
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new CairnError('ALREADY_EXISTS', `cannot restore ${displayName(path)}: a folder is in the way`);
  if (st && existing === 'keep') return false;
  if (chunkDigest && !Buffer.from(chunkDigest).equals(job.digest)) {
    throw new CairnError('CORRUPT', `${job.archivePath}: its chunks do not match the snapshot's checksum`);
  }
  const tmp = restoreTmpPath(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    const hash = chunkDigest ? undefined : createHash('sha256');
    let at = 0;
    for (const slice of content) {
      writeAllSync(fd, slice, at);
      hash?.update(slice);
      at += slice.length;
      onBytes(slice.length);
    }
    if (hash && !hash.digest().equals(job.digest)) {
      throw new CairnError('CORRUPT', `${job.archivePath}: restored content does not match the snapshot's checksum`);
    }
    // Owner first: on Linux a chown clears the setuid and setgid bits, even for root.
    if (isRoot) fchownSync(fd, job.uid, job.gid);
    fchmodSync(fd, job.mode);
    futimesSync(fd, nsToTime(job.mtimeNs), nsToTime(job.mtimeNs));
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    return true;
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* not created */ }
    throw isCairnError(err) ? err : ioError('restore', displayName(path), err);
  }
}
