import { createHash } from 'node:crypto';
import { CairnError } from '../errors.js';
import { displayName } from './names.js';

/**
 * Cairn's folder archive, format version 1 (docs/FORMAT.md). A snapshot of a folder holds two streams, each
 * chunked and listed in a dynamic index:
 *  - the payload stream (`folder.data.didx`): file contents, referenced by (offset, size);
 *  - the metadata stream (`folder.meta.didx`): one record per directory, written after its children, so a
 *    directory entry can point at its child's record; a trailer at the end points at the root.
 * Listing one directory reads only the chunks holding its record, never file contents or the whole tree.
 */
export const META_ARCHIVE = 'folder.meta.didx';
export const DATA_ARCHIVE = 'folder.data.didx';

export enum EntryKind {
  File = 1,
  Directory = 2,
  Symlink = 3,
  Hardlink = 4,
}

export type EntryKindName = 'file' | 'directory' | 'symlink' | 'hardlink';

export function kindName(kind: EntryKind): EntryKindName {
  return kind === EntryKind.File
    ? 'file'
    : kind === EntryKind.Directory
      ? 'directory'
      : kind === EntryKind.Symlink
        ? 'symlink'
        : 'hardlink';
}

interface EntryBase {
  /** The name as the filesystem gave it: bytes, since not every name is valid UTF-8. */
  name: Buffer;
  /** Permission bits (st_mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
}

export interface FileEntry extends EntryBase {
  kind: EntryKind.File | EntryKind.Hardlink;
  size: number;
  /** Offset of the content in the payload stream. */
  payloadOffset: number;
  /**
   * SHA-256 of the content; for a file of at least the archive's chunk-digest threshold, SHA-256 over the
   * digests of the payload chunks it lies on (docs/FORMAT.md).
   */
  digest: Buffer;
  /** Change detection for the next backup: inode and ctime as they were when read. */
  ino: bigint;
  ctimeNs: bigint;
  /** Hardlinks only: the path (from the archive root, '/'-separated) of the first link, a regular file entry. */
  linkTarget?: Buffer;
}

export interface DirectoryEntry extends EntryBase {
  kind: EntryKind.Directory;
  /** Where this directory's own record lies in the metadata stream. */
  recordOffset: number;
  recordLength: number;
  /**
   * Where the content of this directory's subtree starts in the payload stream: the offset its record's file
   * offsets are relative to. Undefined when writing a subtree without content (it is stored as its parent's);
   * always set on a decoded entry.
   */
  payloadBase?: number;
  /**
   * The folder's inode and ctime when its entries were listed, so that the next backup may take its names
   * from this record instead of reading the folder again (docs/FORMAT.md). A ctime of UNTRUSTED_LISTING says
   * the record does not list everything in the folder (entries were excluded or skipped) or the folder
   * changed too close to the backup to tell a later change apart.
   */
  ino: bigint;
  ctimeNs: bigint;
}

/** A folder's ctime in its entry that no folder has: its record may not stand in for reading the folder. */
export const UNTRUSTED_LISTING = -1n;

/**
 * Where a record lies: its offset in the metadata stream and its directory's payload base. A record stores
 * its offsets relative to these, so a folder whose subtree did not change keeps a byte-identical record
 * however much the content before it grew or shrank, and its metadata chunks deduplicate.
 */
export interface RecordPlace {
  recordOffset: number;
  payloadBase: number;
}

export interface SymlinkEntry extends EntryBase {
  kind: EntryKind.Symlink;
  target: Buffer;
}

export type ArchiveEntry = FileEntry | DirectoryEntry | SymlinkEntry;

/**
 * The one format this build reads and writes. Its magics end in "3" and "4" because layouts written before
 * the first release took the lower numbers; they were never released and are not read. From now on a change
 * to the format after a release needs a new version and a reader for the old one (docs/FORMAT.md).
 */
export const FORMAT_VERSION = 1;
/** A directory record starts with "CDR3" (as u32 LE). */
const RECORD_MAGIC = 0x33524443;
/** The trailer ends with this. */
const TRAILER_MAGIC = Buffer.from('CAIRNMT4');
/** Only to tell an unsupported Cairn trailer from bytes that are no trailer at all. */
const TRAILER_MAGIC_PREFIX = Buffer.from('CAIRNMT');
/** u32 root entry length + 4 × u64 stats + u64 chunk-digest threshold + 8-byte magic. */
export const TRAILER_FIXED_SIZE = 4 + 32 + 8 + 8;
const MAX_NAME = 0xffff;

export interface ArchiveStats {
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  /** Logical bytes of file contents. */
  bytes: number;
  /** Entries that could not be backed up (vanished, unreadable, special files). */
  skipped: number;
}

/** A growable little-endian writer. */
class ByteWriter {
  private buf = Buffer.allocUnsafe(4096);
  length = 0;

  /** Room for `total` bytes in all, in one buffer: a large record then grows without copies. */
  reserve(total: number): void {
    if (total <= this.buf.length) return;
    const room = Buffer.allocUnsafe(total);
    this.buf.copy(room, 0, 0, this.length);
    this.buf = room;
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.length);
    this.length += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }
  u64(v: number | bigint): void {
    this.ensure(8);
    if (typeof v === 'number') {
      // Two u32 halves: a BigInt per number is the slowest part of encoding a big tree.
      this.buf.writeUInt32LE(v % 0x1_0000_0000, this.length);
      this.buf.writeUInt32LE(Math.floor(v / 0x1_0000_0000), this.length + 4);
    } else {
      this.buf.writeBigUInt64LE(v, this.length);
    }
    this.length += 8;
  }
  i64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(v, this.length);
    this.length += 8;
  }
  /** A signed safe integer as i64, in two halves (no BigInt). */
  int(v: number): void {
    this.ensure(8);
    const hi = Math.floor(v / 0x1_0000_0000);
    this.buf.writeUInt32LE(v - hi * 0x1_0000_0000, this.length);
    this.buf.writeInt32LE(hi, this.length + 4);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  shortBytes(b: Uint8Array, what: string): void {
    if (b.length > MAX_NAME) throw new CairnError('INVALID_NAME', `${what} of ${b.length} bytes is too long`);
    this.u16(b.length);
    this.bytes(b);
  }
  /** Overwrites 4 bytes already written at `pos`. */
  u32At(pos: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, pos);
  }
  /** Overwrites 8 bytes already written at `pos` with a safe integer. */
  u64At(pos: number, v: number): void {
    this.buf.writeUInt32LE(v % 0x1_0000_0000, pos);
    this.buf.writeUInt32LE(Math.floor(v / 0x1_0000_0000), pos + 4);
  }
  /** Overwrites bytes already written at `pos`. */
  bytesAt(pos: number, b: Uint8Array): void {
    this.buf.set(b, pos);
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
  reset(): void {
    this.length = 0;
    if (this.buf.length > 1 << 20) this.buf = Buffer.allocUnsafe(4096); // don't keep one huge folder's buffer
  }
}

/** The signed 64-bit integer at `pos`, in two halves (no BigInt), or undefined if it is not a safe integer. */
export function readSafeInt64(buf: Buffer, pos: number): number | undefined {
  const hi = buf.readInt32LE(pos + 4);
  if (hi >= 0x20_0000 || hi < -0x20_0000) return undefined;
  return hi * 0x1_0000_0000 + buf.readUInt32LE(pos);
}

class ByteReader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    private readonly what: string,
  ) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new CairnError('CORRUPT', `${this.what}: record truncated`);
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  num(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    if (hi >= 0x20_0000) throw new CairnError('CORRUPT', `${this.what}: number out of range`);
    return hi * 0x1_0000_0000 + lo;
  }
  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  /** A signed i64 that must be a safe integer. */
  int(): number {
    this.need(8);
    const v = readSafeInt64(this.buf, this.pos);
    this.pos += 8;
    if (v === undefined) throw new CairnError('CORRUPT', `${this.what}: number out of range`);
    return v;
  }
  /** A view, not a copy: decoded names and digests share the record's memory (copying them was most of decoding). */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  shortBytes(): Buffer {
    return this.bytes(this.u16());
  }
  get done(): boolean {
    return this.pos === this.buf.length;
  }
}

/**
 * Sizes in a record after an entry's name, for code that reads records in place: the fields
 * every entry has (mode, uid, gid, mtime), then a file's own (size, offset, digest, inode, ctime) and a
 * folder's (distance, length, payload base, inode, listing ctime).
 */
export const ENTRY_COMMON_SIZE = 20;
export const FILE_FIELDS_SIZE = 64;
export const FOLDER_FIELDS_SIZE = 36;

/** A folder entry's own fields as a record stores them: offsets relative to the record's place. */
export interface StoredFolderFields {
  distance: number;
  recordLength: number;
  relativeBase: number;
  ino: bigint;
  ctimeNs: bigint;
}

/**
 * A folder entry's own fields at `pos`, read in place; undefined if they are cut off or point
 * where no child's record can be: a child's record ends before its parent's starts (records are written
 * children first), and no payload base lies before the stream.
 */
export function readFolderFields(raw: Buffer, pos: number, place: RecordPlace): StoredFolderFields | undefined {
  if (pos + FOLDER_FIELDS_SIZE > raw.length) return undefined;
  const distance = readSafeInt64(raw, pos);
  const recordLength = raw.readUInt32LE(pos + 8);
  const relativeBase = readSafeInt64(raw, pos + 12);
  if (
    distance === undefined ||
    relativeBase === undefined ||
    distance < recordLength ||
    distance > place.recordOffset ||
    place.payloadBase + relativeBase < 0
  )
    return undefined;
  return {
    distance,
    recordLength,
    relativeBase,
    ino: raw.readBigUInt64LE(pos + 20),
    ctimeNs: raw.readBigInt64LE(pos + 28),
  };
}

/** Whether `record` starts with a directory record's magic (for code that reads records in place). */
export function hasRecordMagic(record: Buffer): boolean {
  return record.length >= 4 && record.readUInt32LE(0) === RECORD_MAGIC;
}

/**
 * A name may not be empty, '.', '..', or hold '/' or NUL: restore relies on this to stay inside its target.
 * The name's bytes, or a latin1 string of them (a character a byte).
 */
export function isSafeName(name: Uint8Array | string): boolean {
  if (name.length === 0 || name.length > 4095) return false;
  if (typeof name === 'string') return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
  if (name.length === 1 && name[0] === 0x2e) return false;
  if (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e) return false;
  return !name.includes(0x2f) && !name.includes(0);
}

/**
 * Writes one entry of the record at `place`. A file's payload offset is stored relative to its folder's
 * payload base (0 for an empty file), and a folder's record offset as the distance back from the record
 * holding it and its payload base relative to that record's. A hardlink's offset stays absolute: its content
 * is its first link's, anywhere in the stream.
 */
function writeEntry(w: ByteWriter, e: ArchiveEntry, place: RecordPlace): void {
  w.u8(e.kind);
  w.shortBytes(e.name, 'name');
  w.u32(e.mode);
  w.u32(e.uid);
  w.u32(e.gid);
  w.i64(e.mtimeNs);
  switch (e.kind) {
    case EntryKind.File:
    case EntryKind.Hardlink:
      w.u64(e.size);
      if (e.kind === EntryKind.File) w.int(e.size > 0 ? e.payloadOffset - place.payloadBase : 0);
      else w.u64(e.payloadOffset);
      w.bytes(e.digest);
      w.u64(e.ino);
      w.i64(e.ctimeNs);
      if (e.kind === EntryKind.Hardlink) w.shortBytes(e.linkTarget ?? Buffer.alloc(0), 'hardlink target');
      break;
    case EntryKind.Directory:
      if (e.recordOffset > place.recordOffset)
        throw new Error(`folder record at ${e.recordOffset} after its parent's at ${place.recordOffset}`);
      w.u64(place.recordOffset - e.recordOffset);
      w.u32(e.recordLength);
      w.int(e.payloadBase === undefined ? 0 : e.payloadBase - place.payloadBase);
      w.u64(e.ino);
      w.i64(e.ctimeNs);
      break;
    case EntryKind.Symlink:
      w.shortBytes(e.target, 'symlink target');
      break;
  }
}

/** Reads one entry of the record at `place`; offsets come back absolute (see writeEntry). */
function readEntry(r: ByteReader, what: string, place: RecordPlace): ArchiveEntry {
  const kind = r.u8();
  const name = r.shortBytes();
  const base = { name, mode: r.u32(), uid: r.u32(), gid: r.u32(), mtimeNs: r.i64() };
  switch (kind) {
    case EntryKind.File:
    case EntryKind.Hardlink: {
      const size = r.num();
      let payloadOffset: number;
      if (kind === EntryKind.File) {
        const relative = r.int();
        payloadOffset = size > 0 ? place.payloadBase + relative : 0;
        if (payloadOffset < 0)
          throw new CairnError(
            'CORRUPT',
            `${what}: file ${JSON.stringify(displayName(name))} starts before the payload stream`,
          );
      } else {
        payloadOffset = r.num();
      }
      const e: FileEntry = { ...base, kind, size, payloadOffset, digest: r.bytes(32), ino: r.u64(), ctimeNs: r.i64() };
      if (kind === EntryKind.Hardlink) e.linkTarget = r.shortBytes();
      return e;
    }
    case EntryKind.Directory: {
      const distance = r.num();
      const recordLength = r.u32();
      const payloadBase = place.payloadBase + r.int();
      if (distance > place.recordOffset || payloadBase < 0) {
        throw new CairnError(
          'CORRUPT',
          `${what}: folder ${JSON.stringify(displayName(name))} points outside the metadata or payload stream`,
        );
      }
      return {
        ...base,
        kind,
        recordOffset: place.recordOffset - distance,
        recordLength,
        payloadBase,
        ino: r.u64(),
        ctimeNs: r.i64(),
      };
    }
    case EntryKind.Symlink:
      return { ...base, kind, target: r.shortBytes() };
    default:
      throw new CairnError('CORRUPT', `${what}: unknown entry kind ${kind}`);
  }
}

/** One writer reused for every record: a fresh, growing buffer per folder was a large part of encoding a tree. */
const recordWriter = new ByteWriter();

/**
 * Encodes a directory record that will lie at `place`, the entries sorted by name bytes (so lookups can
 * binary-search), its offsets relative to the place.
 */
export function encodeDirectoryRecord(entries: ArchiveEntry[], place: RecordPlace): Buffer {
  const w = recordWriter;
  w.reset();
  w.u32(RECORD_MAGIC);
  w.u32(entries.length);
  for (const e of entries) writeEntry(w, e, place);
  return Buffer.from(w.result());
}

/** Where the content of an entry's file or subtree starts in the payload stream; undefined if it has none. */
function contentStart(e: ArchiveEntry): number | undefined {
  if (e.kind === EntryKind.File) return e.size > 0 ? e.payloadOffset : undefined;
  return e.kind === EntryKind.Directory ? e.payloadBase : undefined;
}

/** A file entry's bytes besides its name (kind, name length, common fields, file fields). */
const FILE_ENTRY_FIXED_SIZE = 3 + ENTRY_COMMON_SIZE + FILE_FIELDS_SIZE;

/** Writers of finished records, for the next folders (a fresh, growing buffer per folder was costly). */
const spareWriters: ByteWriter[] = [];

/**
 * A folder's record encoded entry by entry as the backup goes, so that a folder of 200,000 files holds ~100
 * bytes an entry and not its entries' objects (~500 bytes each with their buffers). What is not known until
 * the record is placed is filled in then: the entry count, how far before it each subfolder's record lies,
 * and the digests of large files, which the chunk writers deliver a little later into the entry's buffer.
 * Entries are added sorted by name bytes. The record's payload base is the first content among them: its
 * offsets are relative to it, so the record stays the same while only content before the folder changes.
 */
export class DirectoryRecordBuilder {
  private writer: ByteWriter | undefined;
  private count = 0;
  private base: number | undefined;
  /** Subfolders, two numbers each: where their record's distance goes, and their record's offset. */
  private readonly folders: number[] = [];
  /** Files of at least `lateDigestMin` bytes: where their digest goes, and the buffer it arrives in. */
  private readonly lateDigests: { at: number; digest: Buffer }[] = [];

  /**
   * `entries`: the names of the entries to come, when known (a folder's children): the room a record of as many
   * files takes is made at once. Doubling as it went, a folder of 200,000 files left 4, 8 and 16 MB buffers for
   * the GC beside its 32 MB one.
   */
  constructor(
    private readonly lateDigestMin: number,
    entries?: readonly { readonly nameLatin1: string }[],
  ) {
    const w = spareWriters.pop() ?? new ByteWriter();
    if (entries) w.reserve(entries.reduce((n, e) => n + FILE_ENTRY_FIXED_SIZE + e.nameLatin1.length, 8));
    w.u32(RECORD_MAGIC);
    w.u32(0); // the entry count, set in encode()
    this.writer = w;
  }

  /** Where the folder's content starts in the payload stream: undefined while no entry has any. */
  get payloadBase(): number | undefined {
    return this.base;
  }

  get length(): number {
    return this.open().length;
  }

  add(e: ArchiveEntry): void {
    const w = this.open();
    this.base ??= contentStart(e);
    const fields = w.length + 3 + e.name.length + ENTRY_COMMON_SIZE;
    // A subfolder's distance is written as 0 here (its own offset as the place) and set in encode().
    const recordOffset = e.kind === EntryKind.Directory ? e.recordOffset : 0;
    writeEntry(w, e, { recordOffset, payloadBase: this.base ?? 0 });
    if (e.kind === EntryKind.Directory) this.folders.push(fields, e.recordOffset);
    else if (e.kind !== EntryKind.Symlink && e.size >= this.lateDigestMin)
      this.lateDigests.push({ at: fields + 16, digest: e.digest }); // after its size and offset
    this.count++;
  }

  /** The record, placed at `recordOffset` in the metadata stream; once every digest in it has arrived. */
  encode(recordOffset: number): Buffer {
    let record: Buffer | undefined;
    this.writeTo(recordOffset, (bytes) => (record = Buffer.from(bytes)));
    return record!;
  }

  /**
   * Gives `write` the record placed at `recordOffset` (as encode), in the builder's own memory, which is reused
   * once `write` returns: a folder of 200,000 files wrote its 20 MB record through a copy of it.
   */
  writeTo(recordOffset: number, write: (record: Buffer) => void): void {
    const w = this.open();
    w.u32At(4, this.count);
    for (let i = 0; i < this.folders.length; i += 2) {
      const folderOffset = this.folders[i + 1]!;
      if (folderOffset > recordOffset)
        throw new Error(`folder record at ${folderOffset} after its parent's at ${recordOffset}`);
      w.u64At(this.folders[i]!, recordOffset - folderOffset);
    }
    for (const { at, digest } of this.lateDigests) w.bytesAt(at, digest);
    this.writer = undefined;
    write(w.result());
    w.reset();
    if (spareWriters.length < 16) spareWriters.push(w);
  }

  private open(): ByteWriter {
    if (!this.writer) throw new Error('a folder record was used after it was encoded');
    return this.writer;
  }
}

/** Decodes and validates a record found at `place`: safe, unique, sorted names, and offsets made absolute. */
export function decodeDirectoryRecord(buf: Buffer, what: string, place: RecordPlace): ArchiveEntry[] {
  const r = new ByteReader(buf, what);
  if (r.u32() !== RECORD_MAGIC) throw new CairnError('CORRUPT', `${what}: not a directory record`);
  const entries = readEntries(r, r.u32(), what, place);
  if (!r.done) throw new CairnError('CORRUPT', `${what}: trailing bytes after the record`);
  return entries;
}

/** Where the entry at `pos` of a record ends, measured without decoding it; undefined if it is cut off. */
function entryEnd(buf: Buffer, pos: number): number | undefined {
  if (pos + 3 > buf.length) return undefined;
  const kind = buf[pos]!;
  let end = pos + 3 + buf.readUInt16LE(pos + 1) + ENTRY_COMMON_SIZE;
  const shortBytesEnd = (at: number): number | undefined =>
    at + 2 > buf.length ? undefined : at + 2 + buf.readUInt16LE(at);
  if (kind === EntryKind.File) end += FILE_FIELDS_SIZE;
  else if (kind === EntryKind.Directory) end += FOLDER_FIELDS_SIZE;
  else if (kind === EntryKind.Hardlink) {
    const at = shortBytesEnd(end + FILE_FIELDS_SIZE);
    if (at === undefined) return undefined;
    end = at;
  } else if (kind === EntryKind.Symlink) {
    const at = shortBytesEnd(end);
    if (at === undefined) return undefined;
    end = at;
  } else return undefined;
  return end <= buf.length ? end : undefined;
}

/**
 * Entries `offset` to `offset + limit` of a record, decoded and checked as decodeDirectoryRecord does, the
 * others only measured (every entry must still be whole, and the page sorted after the entry before it): the
 * first rows of a folder of 200,000 entries without making 200,000 objects, which took a second.
 */
export function decodeDirectoryRecordPage(
  buf: Buffer,
  what: string,
  place: RecordPlace,
  offset: number,
  limit: number,
): { entries: ArchiveEntry[]; total: number } {
  const r = new ByteReader(buf, what);
  if (r.u32() !== RECORD_MAGIC) throw new CairnError('CORRUPT', `${what}: not a directory record`);
  const total = r.u32();
  const first = Math.min(offset, total);
  skipEntries(r, first - 1, what);
  const before = first > 0 ? readEntry(r, what, place) : undefined;
  const entries = readEntries(r, Math.min(limit, total - first), what, place, before);
  skipEntries(r, total - first - entries.length, what);
  if (!r.done) throw new CairnError('CORRUPT', `${what}: trailing bytes after the record`);
  return { entries, total };
}

function skipEntries(r: ByteReader, count: number, what: string): void {
  for (let i = 0; i < count; i++) {
    const end = entryEnd(r.buf, r.pos);
    if (end === undefined) throw new CairnError('CORRUPT', `${what}: record truncated`);
    r.pos = end;
  }
}

/** `count` entries from `r`: safe names, sorted after `previous` and each other. */
function readEntries(
  r: ByteReader,
  count: number,
  what: string,
  place: RecordPlace,
  previous?: ArchiveEntry,
): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  let prev = previous;
  for (let i = 0; i < count; i++) {
    const e = readEntry(r, what, place);
    if (!isSafeName(e.name))
      throw new CairnError('CORRUPT', `${what}: unsafe entry name ${JSON.stringify(displayName(e.name))}`);
    if (prev && Buffer.compare(prev.name, e.name) >= 0)
      throw new CairnError('CORRUPT', `${what}: entries not sorted or duplicated`);
    entries.push(e);
    prev = e;
  }
  return entries;
}

/**
 * The metadata stream's trailer: the root directory's entry, the archive's totals, and the chunk-digest
 * threshold: files of at least that many bytes lie on whole payload chunks and their digest is made from
 * those chunks' digests (`chunkListDigest`); 0 means every file digest is the SHA-256 of its content.
 * `at` is where the trailer starts in the metadata stream: the root entry lies at the place (at, 0), so its
 * record offset is stored as the distance back from there.
 */
export function encodeTrailer(root: DirectoryEntry, stats: ArchiveStats, chunkDigestMin: number, at: number): Buffer {
  const w = new ByteWriter();
  writeEntry(w, root, { recordOffset: at, payloadBase: 0 });
  const rootLength = w.length;
  w.u32(rootLength);
  w.u64(stats.files);
  w.u64(stats.directories);
  w.u64(stats.bytes);
  w.u64(stats.skipped);
  w.u64(chunkDigestMin);
  w.bytes(TRAILER_MAGIC);
  return Buffer.from(w.result());
}

export interface TrailerTail {
  /** Length of the root entry, which precedes the tail (the last TRAILER_FIXED_SIZE bytes). */
  rootLength: number;
  stats: Omit<ArchiveStats, 'symlinks' | 'hardlinks'>;
  /** See encodeTrailer. */
  chunkDigestMin: number;
}

/** Parses the trailer's fixed tail from the last TRAILER_FIXED_SIZE bytes of the stream (or all, if shorter). */
export function decodeTrailerTail(end: Buffer, what: string): TrailerTail {
  const magic = end.subarray(Math.max(0, end.length - 8));
  if (magic.subarray(0, TRAILER_MAGIC_PREFIX.length).equals(TRAILER_MAGIC_PREFIX) && !magic.equals(TRAILER_MAGIC)) {
    throw new CairnError(
      'CORRUPT',
      `${what}: unsupported folder archive format (trailer ${JSON.stringify(magic.toString('latin1'))}; this version of Cairn reads format version ${FORMAT_VERSION})`,
    );
  }
  if (end.length < TRAILER_FIXED_SIZE || !magic.equals(TRAILER_MAGIC))
    throw new CairnError('CORRUPT', `${what}: no folder archive trailer`);
  const r = new ByteReader(end.subarray(end.length - TRAILER_FIXED_SIZE), what);
  const rootLength = r.u32();
  const stats = { files: r.num(), directories: r.num(), bytes: r.num(), skipped: r.num() };
  return { rootLength, stats, chunkDigestMin: r.num() };
}

/** The digest of a file that lies on whole payload chunks: SHA-256 over those chunks' digests, in order. */
export function chunkListDigest(digests: Iterable<Uint8Array>): Buffer {
  const hash = createHash('sha256');
  for (const d of digests) hash.update(d);
  return hash.digest();
}

/** The trailer's root entry; `at` is where the trailer starts (its offsets are relative to it). */
export function decodeRootEntry(buf: Buffer, what: string, at: number): DirectoryEntry {
  const r = new ByteReader(buf, what);
  const e = readEntry(r, what, { recordOffset: at, payloadBase: 0 });
  if (e.kind !== EntryKind.Directory || !r.done)
    throw new CairnError('CORRUPT', `${what}: trailer does not hold a directory`);
  return e;
}

/** Binary search by name bytes in a sorted record. */
export function findEntry(entries: ArchiveEntry[], name: Uint8Array): ArchiveEntry | undefined {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = Buffer.compare(entries[mid]!.name, name);
    if (c === 0) return entries[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}
