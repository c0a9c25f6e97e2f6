import type { SnapshotReader } from '../datastore/snapshot-reader.js';
import { CairnError } from '../errors.js';
import type { DynamicIndexReader } from '../index/dynamic-index.js';
import {
  DATA_ARCHIVE, decodeDirectoryRecord, decodeRootEntry, decodeTrailerTail, EntryKind, findEntry, META_ARCHIVE,
  TRAILER_FIXED_SIZE, type ArchiveEntry, type ArchiveStats, type DirectoryEntry, type FileEntry,
} from './archive-format.js';
import { CachedStreamReader } from './stream-reader.js';

/** Splits an archive path ("a/b/c", "/a/b", "" for the root) into name bytes; refuses "." and "..". */
export function splitArchivePath(path: string): Buffer[] {
  const parts = path.split('/').filter((p) => p.length > 0);
  for (const p of parts) {
    if (p === '.' || p === '..') throw new CairnError('INVALID_NAME', `invalid path ${JSON.stringify(path)}: '.' and '..' are not allowed`);
  }
  return parts.map((p) => Buffer.from(p));
}

/** A folder snapshot opened for browsing and reading: only the records and chunks asked for are read. */
export class FolderArchiveReader {
  readonly meta: CachedStreamReader;
  readonly data: CachedStreamReader;
  readonly root: DirectoryEntry;
  readonly stats: Omit<ArchiveStats, 'symlinks' | 'hardlinks'>;
  private readonly records = new Map<number, ArchiveEntry[]>();

  constructor(readonly snapshot: SnapshotReader) {
    const metaIndex = snapshot.openIndex(META_ARCHIVE);
    const dataIndex = snapshot.openIndex(DATA_ARCHIVE);
    this.meta = new CachedStreamReader(snapshot.chunks, metaIndex, 16);
    this.data = new CachedStreamReader(snapshot.chunks, dataIndex, 4);
    const what = `${snapshot.path}/${META_ARCHIVE}`;
    if (metaIndex.size < TRAILER_FIXED_SIZE) throw new CairnError('CORRUPT', `${what}: too short for a folder archive`);
    const tail = decodeTrailerTail(this.meta.read(metaIndex.size - TRAILER_FIXED_SIZE, TRAILER_FIXED_SIZE), what);
    const rootStart = metaIndex.size - TRAILER_FIXED_SIZE - tail.rootLength;
    if (rootStart < 0) throw new CairnError('CORRUPT', `${what}: bad trailer`);
    this.root = decodeRootEntry(this.meta.read(rootStart, tail.rootLength), what);
    this.stats = tail.stats;
  }

  static hasFolderArchive(files: readonly string[]): boolean {
    return files.includes(META_ARCHIVE) && files.includes(DATA_ARCHIVE);
  }

  get dataIndex(): DynamicIndexReader {
    return this.data.index as DynamicIndexReader;
  }

  /** The children of a directory, sorted by name bytes. */
  readDirectory(dir: DirectoryEntry): ArchiveEntry[] {
    const cached = this.records.get(dir.recordOffset);
    if (cached) return cached;
    const what = `${this.snapshot.path}/${META_ARCHIVE} at ${dir.recordOffset}`;
    const entries = decodeDirectoryRecord(this.meta.read(dir.recordOffset, dir.recordLength), what);
    // Records are written children first, so a child's record must end before its parent's starts; this
    // also makes a crafted cycle impossible to follow.
    for (const e of entries) {
      if (e.kind === EntryKind.Directory && e.recordOffset + e.recordLength > dir.recordOffset) {
        throw new CairnError('CORRUPT', `${what}: folder ${JSON.stringify(e.name.toString())} points forward (a cycle?)`);
      }
    }
    if (this.records.size >= 256) this.records.clear();
    this.records.set(dir.recordOffset, entries);
    return entries;
  }

  /** The entry at a path, or undefined. The root is "" (or "/"). */
  lookup(path: string): ArchiveEntry | undefined {
    let entry: ArchiveEntry = this.root;
    for (const name of splitArchivePath(path)) {
      if (entry.kind !== EntryKind.Directory) return undefined;
      const child = findEntry(this.readDirectory(entry), name);
      if (!child) return undefined;
      entry = child;
    }
    return entry;
  }

  /** Like lookup, with a clear error when the path is not there. */
  get(path: string): ArchiveEntry {
    const entry = this.lookup(path);
    if (!entry) throw new CairnError('NOT_FOUND', `${JSON.stringify(path)} is not in snapshot ${this.snapshot.path}`);
    return entry;
  }

  list(path: string): ArchiveEntry[] {
    const entry = this.get(path);
    if (entry.kind !== EntryKind.Directory) throw new CairnError('INVALID_ARGUMENT', `${JSON.stringify(path)} is not a directory`);
    return this.readDirectory(entry);
  }

  /** The content of a file (or hardlink), slice by slice, every chunk verified. */
  fileContent(entry: FileEntry): Generator<Buffer> {
    return this.data.slices(entry.payloadOffset, entry.size);
  }
}
