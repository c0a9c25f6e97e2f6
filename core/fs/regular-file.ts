import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { CairnError, errnoCode } from '../errors.js';

/** Bounds for files Cairn reads whole: a file that claims more is damaged or planted, and is refused. */
export const MAX_JSON_FILE_BYTES = 16 * 1024 * 1024;
export const MAX_INDEX_FILE_BYTES = 2 * 1024 * 1024 * 1024 - 1;

const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

export interface RegularFileOptions {
  /** Follow a symlink in the last component (a user's `.cairnignore` may be one); never inside a store. */
  followSymlink?: boolean;
  /** Read into this thread's reused buffer: for bytes decoded into new ones at once (a chunk's blob). */
  scratch?: ReadScratch;
}

/**
 * One buffer reused by the reads whose bytes are not kept: a restore reads thousands of chunk blobs and keeps
 * only what it decodes from them, and a new buffer for each was garbage V8 collects late (outside its heap).
 * What a read into it returns is valid until the next read into it.
 */
export class ReadScratch {
  private buffer = Buffer.alloc(0);

  take(size: number): Buffer {
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(size);
    return this.buffer.subarray(0, size);
  }
}

/**
 * Opens a file Cairn reads for itself (a chunk, an index, a manifest, a lock record, a `.cairnignore`). A
 * FIFO, a device or a symlink placed in the store must not hang a job or lead it outside the store: the file
 * is opened without following a symlink and without waiting for a writer, and must be a regular file.
 * Errors from the system (ENOENT, EACCES, …) are passed on as they are, so callers keep their own handling
 * of a missing file. The caller closes the descriptor.
 */
export function openRegularFile(path: string | Buffer, options: RegularFileOptions = {}): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS | (options.followSymlink ? 0 : NOFOLLOW));
  } catch (err) {
    if (errnoCode(err) === 'ELOOP') {
      throw new CairnError('CORRUPT', `${path} is a symlink; Cairn never follows symlinks inside a datastore`, {
        cause: err,
      });
    }
    throw err;
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new CairnError(
      'CORRUPT',
      `${path} is ${describeKind(st)}, not a regular file; Cairn only reads regular files in a datastore`,
    );
  }
  return { fd, size: st.size };
}

/** Reads a whole file (see openRegularFile), refusing one longer than `maxBytes`. */
export function readRegularFile(path: string | Buffer, maxBytes: number, options: RegularFileOptions = {}): Buffer {
  const { fd, size } = openRegularFile(path, options);
  try {
    if (size > maxBytes)
      throw new CairnError('CORRUPT', `${path} is ${size} bytes, more than such a file can hold (${maxBytes})`);
    const data = options.scratch ? options.scratch.take(size) : Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, data, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got < size)
      throw new CairnError('CORRUPT', `${path} shrank to ${got} bytes while it was read (${size} before)`);
    return data;
  } finally {
    closeSync(fd);
  }
}

/** Reads a small text file (a JSON record, owner, notes, exclude rules) as UTF-8. */
export function readRegularText(
  path: string | Buffer,
  maxBytes = MAX_JSON_FILE_BYTES,
  options: RegularFileOptions = {},
): string {
  return readRegularFile(path, maxBytes, options).toString('utf8');
}

function describeKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}
