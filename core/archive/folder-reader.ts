import type { SnapshotReader } from '../datastore/snapshot-reader.js';
import { CairnError } from '../errors.js';
import type { DynamicIndexReader } from '../index/dynamic-index.js';
import {
  chunkListDigest,
  DATA_ARCHIVE,
  decodeDirectoryRecord,
  decodeDirectoryRecordPage,
  decodeRootEntry,
  decodeTrailerTail,
  EntryKind,
  findEntry,
  META_ARCHIVE,
  TRAILER_FIXED_SIZE,
  type ArchiveEntry,
  type ArchiveStats,
  type DirectoryEntry,
  type FileEntry,
} from './archive-format.js';
import type { FileContent } from './file-writer.js';
import { displayName, parseEscapedName } from './names.js';
import { CachedStreamReader } from './stream-reader.js';

/** Splits an archive path ("a/b/c", "/a/b", "" for the root) into name bytes; refuses "." and "..". */
export function splitArchivePath(path: string): Buffer[] {
  const parts = path.split('/').filter((p) => p.length > 0);
  for (const p of parts) {
    if (p === '.' || p === '..')
      throw new CairnError('INVALID_NAME', `invalid path ${JSON.stringify(path)}: '.' and '..' are not allowed`);
  }
  return parts.map((p) => Buffer.from(p));
}

function shownPath(path: string | readonly Uint8Array[]): string {
  return typeof path === 'string' ? path : path.map(displayName).join('/');
}

/** A folder snapshot opened for browsing and reading: only the records and chunks asked for are read. */
export class FolderArchiveReader {
  readonly meta: CachedStreamReader;
  readonly data: CachedStreamReader;
  readonly root: DirectoryEntry;
  readonly stats: Omit<ArchiveStats, 'symlinks' | 'hardlinks'>;
  /** Files of at least this many bytes have a digest made from their chunks' digests; 0: none (FORMAT.md). */
  readonly chunkDigestMin: number;
  /** Where the trailer starts in the metadata stream. */
  readonly trailerOffset: number;
  private readonly records = new Map<number, ArchiveEntry[]>();

  /**
   * `onChunkVerified` hears of every chunk read and found sound, `beforeDataChunk` of each chunk of the data
   * stream about to be read from the store (see CachedStreamReader).
   */
  constructor(
    readonly snapshot: SnapshotReader,
    options: {
      onChunkVerified?: (digest: Buffer, length: number) => void;
      beforeDataChunk?: (i: number, digest: Buffer) => void;
    } = {},
  ) {
    const metaIndex = snapshot.openIndex(META_ARCHIVE);
    const dataIndex = snapshot.openIndex(DATA_ARCHIVE);
    this.meta = new CachedStreamReader(snapshot, metaIndex, 16, options.onChunkVerified);
    this.data = new CachedStreamReader(snapshot, dataIndex, 4, options.onChunkVerified, options.beforeDataChunk);
    const what = `${snapshot.path}/${META_ARCHIVE}`;
    if (metaIndex.size < 8) throw new CairnError('CORRUPT', `${what}: too short for a folder archive`);
    const endLength = Math.min(metaIndex.size, TRAILER_FIXED_SIZE);
    const tail = decodeTrailerTail(this.meta.read(metaIndex.size - endLength, endLength), what);
    const rootStart = metaIndex.size - TRAILER_FIXED_SIZE - tail.rootLength;
    if (rootStart < 0) throw new CairnError('CORRUPT', `${what}: bad trailer`);
    this.root = decodeRootEntry(this.meta.read(rootStart, tail.rootLength), what, rootStart);
    this.stats = tail.stats;
    this.chunkDigestMin = tail.chunkDigestMin;
    this.trailerOffset = rootStart;
  }

  static hasFolderArchive(files: readonly string[]): boolean {
    return files.includes(META_ARCHIVE) && files.includes(DATA_ARCHIVE);
  }

  get dataIndex(): DynamicIndexReader {
    return this.data.index as DynamicIndexReader;
  }

  get metaIndex(): DynamicIndexReader {
    return this.meta.index as DynamicIndexReader;
  }

  /** The children of a directory, sorted by name bytes; `raw` is its record's bytes if the caller has read them. */
  readDirectory(dir: DirectoryEntry, raw?: Buffer): ArchiveEntry[] {
    const cached = this.records.get(dir.recordOffset);
    if (cached) return cached;
    const what = `${this.snapshot.path}/${META_ARCHIVE} at ${dir.recordOffset}`;
    const entries = decodeDirectoryRecord(raw ?? this.meta.read(dir.recordOffset, dir.recordLength), what, {
      recordOffset: dir.recordOffset,
      payloadBase: dir.payloadBase ?? 0,
    });
    assertChildrenBefore(entries, dir, what);
    if (this.records.size >= 256) this.records.clear();
    this.records.set(dir.recordOffset, entries);
    return entries;
  }

  /**
   * The entry at a path and the exact names on the way to it, or undefined. The root is "" (or "/"). A name
   * that is not valid UTF-8 can be given as `displayName` shows it (`caf\xe9`); the name as typed wins.
   */
  resolve(path: string | readonly Uint8Array[]): { entry: ArchiveEntry; names: Buffer[] } | undefined {
    let entry: ArchiveEntry = this.root;
    const names: Buffer[] = [];
    const parts =
      typeof path === 'string'
        ? splitArchivePath(path)
        : path.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    for (const name of parts) {
      if (entry.kind !== EntryKind.Directory) return undefined;
      const entries = this.readDirectory(entry);
      let child = findEntry(entries, name);
      const escaped = child || typeof path !== 'string' ? undefined : parseEscapedName(name.toString());
      if (escaped) child = findEntry(entries, escaped);
      if (!child) return undefined;
      entry = child;
      names.push(child.name);
    }
    return { entry, names };
  }

  /** The entry at a path (a string as `resolve` takes it, or exact name bytes), or undefined. */
  lookup(path: string | readonly Uint8Array[]): ArchiveEntry | undefined {
    return this.resolve(path)?.entry;
  }

  /** Like lookup, with a clear error when the path is not there. */
  get(path: string | readonly Uint8Array[]): ArchiveEntry {
    return this.locate(path).entry;
  }

  /** Like resolve, with a clear error when the path is not there. */
  locate(path: string | readonly Uint8Array[]): { entry: ArchiveEntry; names: Buffer[] } {
    const found = this.resolve(path);
    if (!found)
      throw new CairnError('NOT_FOUND', `${JSON.stringify(shownPath(path))} is not in snapshot ${this.snapshot.path}`);
    return found;
  }

  list(path: string | readonly Uint8Array[]): ArchiveEntry[] {
    return this.readDirectory(this.folderAt(path));
  }

  /**
   * Entries `offset` to `offset + limit` of a folder and how many it has. A large folder's record is read for
   * the page only (decodeDirectoryRecordPage), not decoded whole and cached: its first rows come at once.
   */
  listPage(
    path: string | readonly Uint8Array[],
    offset: number,
    limit: number,
  ): { entries: ArchiveEntry[]; total: number } {
    const dir = this.folderAt(path);
    const cached = this.records.get(dir.recordOffset);
    if (cached || dir.recordLength < PAGED_RECORD_BYTES) {
      const all = cached ?? this.readDirectory(dir);
      return { entries: all.slice(offset, offset + limit), total: all.length };
    }
    const what = `${this.snapshot.path}/${META_ARCHIVE} at ${dir.recordOffset}`;
    const page = decodeDirectoryRecordPage(
      this.meta.read(dir.recordOffset, dir.recordLength),
      what,
      {
        recordOffset: dir.recordOffset,
        payloadBase: dir.payloadBase ?? 0,
      },
      offset,
      limit,
    );
    assertChildrenBefore(page.entries, dir, what);
    return page;
  }

  private folderAt(path: string | readonly Uint8Array[]): DirectoryEntry {
    const entry = this.get(path);
    if (entry.kind !== EntryKind.Directory)
      throw new CairnError('INVALID_ARGUMENT', `${JSON.stringify(shownPath(path))} is not a directory`);
    return entry;
  }

  /**
   * For a file of at least the chunk-digest threshold, the digest its entry must have: made from the digests of
   * the payload chunks it lies on (reading those chunks checks each against its digest). Undefined for a
   * smaller file, whose entry holds the SHA-256 of its content. CORRUPT if such a file is not on whole chunks.
   */
  chunkDigestOf(payloadOffset: number, size: number): Buffer | undefined {
    if (this.chunkDigestMin === 0 || size < this.chunkDigestMin) return undefined;
    const index = this.dataIndex;
    const end = payloadOffset + size;
    if (payloadOffset < 0 || end > index.size) {
      throw new CairnError(
        'CORRUPT',
        `${index.path}: range [${payloadOffset}, ${end}) outside the stream's ${index.size} bytes`,
      );
    }
    const first = index.chunkAt(payloadOffset);
    const last = index.chunkAt(end - 1);
    if (index.chunkStart(first) !== payloadOffset || index.chunkEnd(last) !== end) {
      throw new CairnError(
        'CORRUPT',
        `${index.path}: the file at [${payloadOffset}, ${end}) does not lie on whole chunks`,
      );
    }
    return chunkListDigest(Array.from({ length: last - first + 1 }, (_, i) => index.digest(first + i)));
  }

  /**
   * What restoring the file at [payloadOffset, payloadOffset + size) writes. A file on whole chunks is checked by
   * the digest made from theirs (chunkDigestOf), each distinct chunk read once and checked. A smaller one (any
   * file, in an archive without the threshold) is checked whole against its own SHA-256, which covers every byte
   * it is given: its chunks are read without computing their digests (about half the hashing of a restore; their
   * length and CRC or GCM tag are still checked), and when that SHA-256 differs, its chunks are checked to name the
   * damaged one.
   */
  restoreContent(payloadOffset: number, size: number): FileContent {
    const chunkDigest = this.chunkDigestOf(payloadOffset, size);
    if (chunkDigest) return { chunks: this.data.wholeChunks(payloadOffset, size), chunkDigest };
    return {
      slices: this.data.slices(payloadOffset, size, { contentChecked: true }),
      blameChunks: () => this.data.checkChunks(payloadOffset, size),
    };
  }

  /** The content of a file (or hardlink), slice by slice, every chunk verified. */
  fileContent(entry: FileEntry): Generator<Buffer> {
    return this.data.slices(entry.payloadOffset, entry.size);
  }
}

/** A folder record this large is read a page at a time by listPage (about 10,000 entries). */
const PAGED_RECORD_BYTES = 1024 * 1024;

/**
 * Records are written children first, so a child's record must end before its parent's starts; this also
 * makes a crafted cycle impossible to follow.
 */
function assertChildrenBefore(entries: readonly ArchiveEntry[], dir: DirectoryEntry, what: string): void {
  for (const e of entries) {
    if (e.kind === EntryKind.Directory && e.recordOffset + e.recordLength > dir.recordOffset) {
      throw new CairnError(
        'CORRUPT',
        `${what}: folder ${JSON.stringify(displayName(e.name))} points forward (a cycle?)`,
      );
    }
  }
}
