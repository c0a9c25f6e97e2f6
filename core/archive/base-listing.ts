import {
  ENTRY_COMMON_SIZE,
  EntryKind,
  FILE_FIELDS_SIZE,
  FOLDER_FIELDS_SIZE,
  hasRecordMagic,
  readFolderFields,
  UNTRUSTED_LISTING,
  type DirectoryEntry,
  type RecordPlace,
} from './archive-format.js';
import type { FolderArchiveReader } from './folder-reader.js';
import type { SourceStat } from './source-stat.js';

/** A folder of the base snapshot as a scan reaches it: where its record lies and what its entry recorded. */
export interface BaseFolder {
  readonly recordOffset: number;
  readonly recordLength: number;
  readonly payloadBase: number;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
  /** The listing ctime its entry records (UNTRUSTED_LISTING: the record may not stand in for the folder). */
  readonly ctimeNs: bigint;
}

/** A base record read just far enough for a scan: its names and its subfolders. */
export interface BaseRecordListing {
  /** The entries' names as latin1 strings (a character a byte), in the record's order, which is byte order. */
  readonly names: readonly string[];
  /** The subfolders' entries, by name. */
  readonly folders: ReadonlyMap<string, BaseFolder>;
}

/**
 * The folder records of a backup's base, offered to the scan: a folder whose entry says its listing was
 * complete and settled (docs/FORMAT.md), and whose inode, ctime and mtime are still the same, holds the same
 * names, so the scan takes them from the record instead of reading the folder. Adding, removing or renaming
 * an entry sets the folder's ctime, and ctime cannot be set back. A tree of small folders spent a quarter of
 * its scan in readdir.
 *
 * The records read here are kept until the backup asks for them again (`take`): it compares each with the
 * folder as scanned, and would otherwise read and decompress the same metadata chunks twice.
 */
export class BaseListings {
  private readonly raw = new Map<number, Buffer>();

  constructor(private readonly reader: FolderArchiveReader) {}

  get root(): BaseFolder {
    const root = this.reader.root;
    return { ...root, payloadBase: root.payloadBase ?? 0 };
  }

  /** Whether `folder`'s record may stand in for listing the folder that now has `stat`. */
  static stillListed(folder: BaseFolder, stat: SourceStat): boolean {
    return (
      folder.ctimeNs !== UNTRUSTED_LISTING &&
      folder.ctimeNs === stat.ctimeNs &&
      folder.ino === stat.ino &&
      folder.mtimeNs === stat.mtimeNs
    );
  }

  /**
   * The record of `folder`, read just far enough; undefined unless it parses cleanly (the backup's usual path
   * then reads it again and says what is wrong).
   */
  read(folder: BaseFolder): BaseRecordListing | undefined {
    let raw: Buffer;
    try {
      raw = this.reader.meta.read(folder.recordOffset, folder.recordLength);
    } catch {
      return undefined;
    }
    const listing = readListing(raw, folder);
    if (listing) this.raw.set(folder.recordOffset, raw);
    return listing;
  }

  /** The bytes of the base record of `dir`, once: kept from the scan if it read them, else read now. */
  take(dir: DirectoryEntry): Buffer {
    const kept = this.raw.get(dir.recordOffset);
    if (kept && kept.length === dir.recordLength) {
      this.raw.delete(dir.recordOffset);
      return kept;
    }
    return this.reader.meta.read(dir.recordOffset, dir.recordLength);
  }
}

/** The names and subfolders of the record at `place`; undefined if it is not a record or is malformed. */
function readListing(raw: Buffer, place: RecordPlace): BaseRecordListing | undefined {
  if (raw.length < 8 || !hasRecordMagic(raw)) return undefined;
  const count = raw.readUInt32LE(4);
  if (count > raw.length) return undefined;
  const names: string[] = [];
  const folders = new Map<string, BaseFolder>();
  let pos = 8;
  let previous = '';
  for (let i = 0; i < count; i++) {
    if (pos + 3 > raw.length) return undefined;
    const kind = raw[pos]!;
    const nameLength = raw.readUInt16LE(pos + 1);
    pos += 3;
    if (pos + nameLength + ENTRY_COMMON_SIZE > raw.length) return undefined;
    const name = raw.toString('latin1', pos, pos + nameLength);
    // Sorted and unique, as every record is: latin1 strings compare as their bytes do.
    if (i > 0 && !(previous < name)) return undefined;
    previous = name;
    pos += nameLength;
    const mtimeNs = raw.readBigInt64LE(pos + 12);
    pos += ENTRY_COMMON_SIZE;
    if (kind === EntryKind.File || kind === EntryKind.Hardlink) {
      pos += FILE_FIELDS_SIZE;
      if (kind === EntryKind.Hardlink) {
        if (pos + 2 > raw.length) return undefined;
        pos += 2 + raw.readUInt16LE(pos);
      }
    } else if (kind === EntryKind.Directory) {
      const folder = readFolderFields(raw, pos, place);
      if (!folder) return undefined;
      folders.set(name, {
        recordOffset: place.recordOffset - folder.distance,
        recordLength: folder.recordLength,
        payloadBase: place.payloadBase + folder.relativeBase,
        mtimeNs,
        ino: folder.ino,
        ctimeNs: folder.ctimeNs,
      });
      pos += FOLDER_FIELDS_SIZE;
    } else if (kind === EntryKind.Symlink) {
      if (pos + 2 > raw.length) return undefined;
      pos += 2 + raw.readUInt16LE(pos);
    } else {
      return undefined;
    }
    if (pos > raw.length) return undefined;
    names.push(name);
  }
  return pos === raw.length ? { names, folders } : undefined;
}
