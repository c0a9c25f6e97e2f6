import {
  ENTRY_COMMON_SIZE,
  EntryKind,
  FILE_FIELDS_SIZE,
  FOLDER_FIELDS_SIZE,
  hasRecordMagic,
  readFolderFields,
  readSafeInt64 as readInt,
  UNTRUSTED_LISTING,
  type DirectoryEntry,
  type RecordPlace,
} from './archive-format.js';
import type { SourceNode } from './source-scan.js';

/**
 * What a base record says of a folder whose entries all match the folder on disk: enough to reuse the files'
 * chunks, recurse into the subfolders, and check at the end that the new record would be byte for byte the
 * same (then the base record's bytes are written as they are: nothing decoded, nothing encoded).
 */
export interface RecordMatch {
  /** The base record's bytes. */
  readonly raw: Buffer;
  /** Files: the content's offset in the base payload stream (absolute). */
  readonly baseOffsets: readonly number[];
  /** Folders: their entry in the base (absolute offsets), to be matched in turn. */
  readonly baseFolders: readonly (DirectoryEntry | undefined)[];
  /** As stored: a file's payload offset relative to the folder's payload base, a folder's payload base likewise. */
  readonly relative: readonly number[];
  /** Folders, as stored: the distance back from this record to theirs, and their record's length. */
  readonly distance: readonly number[];
  readonly length: readonly number[];
}

/**
 * Compares a folder record (found at `place` in the base) with the folder's entries as
 * scanned, in place. Returns undefined unless every entry matches: the same names in the same order, the same
 * kinds, modes, owners and mtimes, files with the same size, inode and ctime (a file with several links never
 * matches: its first link decides where its content is), folders with the same inode and listing ctime (what
 * this backup expects to write for them, SourceNode.listingCtimeNs, or untrusted in the base: the caller checks
 * what the folder really got once it is listed, CopiedChildren.recordStandsAt), symlinks with the same target (`linkTarget` reads it;
 * undefined if it cannot). A record that does not parse cleanly never matches either: the caller's
 * usual path reads it and reports what is wrong.
 *
 * One loop on purpose (about 85 lines): it runs for every entry of an unchanged tree, the hot path of such a
 * backup, and reads each field at a running position that helpers would have to hand back.
 */
export function matchRecord(
  raw: Buffer,
  place: RecordPlace,
  children: readonly SourceNode[],
  linkTarget: (node: SourceNode) => Buffer | undefined,
): RecordMatch | undefined {
  if (raw.length < 8 || !hasRecordMagic(raw) || raw.readUInt32LE(4) !== children.length) return undefined;
  const count = children.length;
  const baseOffsets: number[] = new Array<number>(count).fill(0);
  const baseFolders: (DirectoryEntry | undefined)[] = new Array<DirectoryEntry | undefined>(count);
  const relative: number[] = new Array<number>(count).fill(0);
  const distance: number[] = new Array<number>(count).fill(0);
  const length: number[] = new Array<number>(count).fill(0);
  let pos = 8;
  for (let i = 0; i < count; i++) {
    const child = children[i]!;
    const st = child.stat;
    const name = child.nameLatin1;
    const nameLength = name.length;
    // kind, name length and name, mode, uid, gid, mtime: the fields every entry starts with.
    if (pos + 3 + nameLength + ENTRY_COMMON_SIZE > raw.length) return undefined;
    const kind = raw[pos]!;
    if (raw.readUInt16LE(pos + 1) !== nameLength) return undefined;
    pos += 3;
    for (let k = 0; k < nameLength; k++) if (raw[pos + k] !== name.charCodeAt(k)) return undefined;
    pos += nameLength;
    if (
      raw.readUInt32LE(pos) !== (st.mode & 0o7777) ||
      raw.readUInt32LE(pos + 4) !== st.uid ||
      raw.readUInt32LE(pos + 8) !== st.gid ||
      raw.readBigInt64LE(pos + 12) !== st.mtimeNs
    )
      return undefined;
    pos += ENTRY_COMMON_SIZE;
    if (child.kind === 'file') {
      // size, relative offset, digest, inode, ctime
      if (kind !== EntryKind.File || st.nlink !== 1 || pos + FILE_FIELDS_SIZE > raw.length) return undefined;
      if (
        readInt(raw, pos) !== st.size ||
        raw.readBigUInt64LE(pos + 48) !== st.ino ||
        raw.readBigInt64LE(pos + 56) !== st.ctimeNs
      )
        return undefined;
      const rel = readInt(raw, pos + 8);
      if (rel === undefined) return undefined;
      const offset = st.size > 0 ? place.payloadBase + rel : 0;
      if (offset < 0) return undefined;
      baseOffsets[i] = offset;
      relative[i] = rel;
      pos += FILE_FIELDS_SIZE;
    } else if (child.kind === 'directory') {
      const listingCtimeNs = child.listingCtimeNs ?? UNTRUSTED_LISTING;
      const folder = kind === EntryKind.Directory ? readFolderFields(raw, pos, place) : undefined;
      // Not listed yet, a folder's listing ctime is what it gets if all in it is backed up; one the base
      // recorded as untrusted (something in it was left out) may still match, and recordStandsAt tells once
      // the folder is listed.
      if (!folder || folder.ino !== st.ino) return undefined;
      if (folder.ctimeNs !== listingCtimeNs && folder.ctimeNs !== UNTRUSTED_LISTING) return undefined;
      baseFolders[i] = {
        kind: EntryKind.Directory,
        name: child.name,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtimeNs: st.mtimeNs,
        recordOffset: place.recordOffset - folder.distance,
        recordLength: folder.recordLength,
        payloadBase: place.payloadBase + folder.relativeBase,
        ino: st.ino,
        ctimeNs: folder.ctimeNs,
      };
      distance[i] = folder.distance;
      length[i] = folder.recordLength;
      relative[i] = folder.relativeBase;
      pos += FOLDER_FIELDS_SIZE;
    } else {
      if (kind !== EntryKind.Symlink || pos + 2 > raw.length) return undefined;
      const targetLength = raw.readUInt16LE(pos);
      if (pos + 2 + targetLength > raw.length) return undefined;
      const target = linkTarget(child);
      if (
        !target ||
        target.length !== targetLength ||
        raw.compare(target, 0, targetLength, pos + 2, pos + 2 + targetLength) !== 0
      )
        return undefined;
      pos += 2 + targetLength;
    }
  }
  return pos === raw.length ? { raw, baseOffsets, baseFolders, relative, distance, length } : undefined;
}
