import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { CairnError, errnoCode, ioError } from '../errors.js';

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
  /** Never replace an existing `path`: ALREADY_EXISTS instead, and nothing is written (a key file, a paper key). */
  noReplace?: boolean;
}

/**
 * Writes a whole file via tmp + rename (+ link with noReplace): readers see the old content or the new, never a torn
 * one. The one way Cairn replaces a file it keeps (chunks, manifests, configs, status and state files, lock records).
 * `data` may be pieces, written in order with writev (a blob's header and payload, neither copied behind the other).
 */
export function writeFileAtomicSync(
  path: string,
  data: Uint8Array | string | readonly Uint8Array[],
  options: AtomicWriteOptions = {},
): void {
  const tmp = options.tmpPath ?? tmpSiblingPath(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', options.mode ?? 0o644);
    if (Array.isArray(data)) writevAllSync(fd, data as readonly Uint8Array[]);
    else writeAllSync(fd, typeof data === 'string' ? Buffer.from(data) : (data as Uint8Array));
    if (options.fsync) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (options.noReplace) publishNew(tmp, path);
    else renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* it may not exist */
    }
    if (err instanceof CairnError) throw err;
    throw ioError(options.action ?? 'write', path, err);
  }
  if (options.fsync) fsyncDirectory(dirname(path));
}

/** What link(2) answers on a filesystem without hard links (FAT, exFAT, some network shares). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Makes the finished `tmp` appear as `path` unless something of that name exists. link(2) refuses an existing name
 * atomically, so a reader never sees a partial file; without hard links, a check and then the rename.
 */
function publishNew(tmp: string, path: string): void {
  try {
    linkSync(tmp, path);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EEXIST' && !NO_HARD_LINKS.has(code ?? '')) throw err;
    if (code === 'EEXIST' || lstatSync(path, { throwIfNoEntry: false }))
      throw new CairnError('ALREADY_EXISTS', `${path} exists already`, { cause: err });
    renameSync(tmp, path);
    return;
  }
  unlinkSync(tmp);
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

/** Writes all of `pieces`, in order, at the current position of `fd`; a short writev goes on where it stopped. */
export function writevAllSync(fd: number, pieces: readonly Uint8Array[]): void {
  let rest = pieces.filter((p) => p.length > 0);
  while (rest.length > 0) {
    let written = writevSync(fd, rest as Uint8Array[]);
    while (rest.length > 0 && written >= rest[0]!.length) {
      written -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (written > 0) rest = [rest[0]!.subarray(written), ...rest.slice(1)];
  }
}
