import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ioError } from '../errors.js';

/** A sibling temporary name in the same directory, so the final rename is atomic: `<name>.tmp_XXXXXX`. */
export function tmpSiblingPath(path: string): string {
  return `${path}.tmp_${randomBytes(4).toString('base64url').slice(0, 6)}`;
}

export interface AtomicWriteOptions {
  /** fsync the file before the rename and the directory after it. */
  fsync?: boolean;
  mode?: number;
  /** What a failure says was being done to `path` ('write chunk' says "cannot write chunk <path>"); 'write' if unset. */
  action?: string;
  /** The tmp file to write and rename, when a format names its own (PBS's `<name>.tmp_fidx`); a random sibling if unset. */
  tmpPath?: string;
}

/**
 * Writes a whole file via tmp + rename: readers see the old content or the new, never a torn one. The one way
 * Cairn replaces a file it keeps (chunks, manifests, configs, status and state files, lock records).
 */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const tmp = options.tmpPath ?? tmpSiblingPath(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', options.mode ?? 0o644);
    writeAllSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (options.fsync) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* it may not exist */
    }
    throw ioError(options.action ?? 'write', path, err);
  }
  if (options.fsync) fsyncDirectory(dirname(path));
}

/** Makes a rename in `dir` durable. Not every platform can open a directory; that is not an error. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot fsync directories; its renames are journaled by NTFS.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes all of `data` at the current position of `fd`. */
export function writeAllSync(fd: number, data: Uint8Array, position?: number): void {
  let written = 0;
  while (written < data.length) {
    written += writeSync(fd, data, written, data.length - written, position === undefined ? null : position + written);
  }
}
