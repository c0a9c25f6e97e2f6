import { createHash, randomUUID } from 'node:crypto';
import { CairnError, ioError } from '../errors.js';
import { MAX_INDEX_FILE_BYTES, readRegularFile } from '../fs/regular-file.js';

/** Both index formats start with one 4096-byte page of header (spec 3). */
export const INDEX_HEADER_SIZE = 4096;
export const CSUM_OFFSET = 32;

/** What both readers offer: a sequence of chunks covering [0, size) of one archive. */
export interface ChunkIndex {
  readonly kind: 'fixed' | 'dynamic';
  readonly path: string;
  /** Logical size of the archive in bytes. */
  readonly size: number;
  readonly chunkCount: number;
  /** SHA-256 of the entry area, as stored in the header and in the manifest. */
  readonly csum: Buffer;
  readonly ctime: number;
  digest(i: number): Buffer;
  chunkStart(i: number): number;
  chunkEnd(i: number): number;
  /** The chunk covering byte `offset`; throws for offsets outside [0, size). */
  chunkAt(offset: number): number;
}

/** A new header page: magic, random uuid, ctime; the csum (and fixed fields) are filled in by the writer. */
export function newHeader(magic: Buffer, ctime = Math.floor(Date.now() / 1000)): Buffer {
  const header = Buffer.alloc(INDEX_HEADER_SIZE);
  magic.copy(header, 0);
  Buffer.from(randomUUID().replaceAll('-', ''), 'hex').copy(header, 8);
  header.writeBigInt64LE(BigInt(ctime), 24);
  return header;
}

/**
 * Reads an index file and does the checks common to both formats: length, magic and csum. `contents`: the file's
 * bytes when they are in memory already (fetched from a remote); `path` then only names it in errors.
 */
export function readIndexFile(
  path: string,
  magic: Buffer,
  kindName: string,
  contents?: Buffer,
): { file: Buffer; entries: Buffer } {
  let file: Buffer;
  try {
    file = contents ?? readRegularFile(path, MAX_INDEX_FILE_BYTES);
  } catch (err) {
    if (err instanceof CairnError) throw err;
    throw ioError('read index', path, err);
  }
  if (file.length < INDEX_HEADER_SIZE) {
    throw new CairnError(
      'CORRUPT',
      `${path}: truncated ${kindName} (${file.length} bytes, the header alone is ${INDEX_HEADER_SIZE})`,
    );
  }
  if (!file.subarray(0, 8).equals(magic)) {
    throw new CairnError('CORRUPT', `${path}: not a ${kindName} (wrong magic ${file.subarray(0, 8).toString('hex')})`);
  }
  const entries = file.subarray(INDEX_HEADER_SIZE);
  return { file, entries };
}

export function checkIndexCsum(path: string, file: Buffer, entries: Buffer): Buffer {
  const stored = Buffer.from(file.subarray(CSUM_OFFSET, CSUM_OFFSET + 32));
  const actual = createHash('sha256').update(entries).digest();
  if (!stored.equals(actual)) {
    throw new CairnError(
      'CORRUPT',
      `${path}: index checksum mismatch (header ${stored.toString('hex')}, entries hash to ${actual.toString('hex')})`,
    );
  }
  return stored;
}

/** The tmp name PBS uses while writing: the extension replaced (`root.pxar.didx` → `root.pxar.tmp_didx`). */
export function indexTmpPath(path: string, ext: 'fidx' | 'didx'): string {
  if (!path.endsWith(`.${ext}`)) throw new CairnError('INVALID_NAME', `index file name must end in .${ext}: ${path}`);
  return `${path.slice(0, -ext.length)}tmp_${ext}`;
}
