import { describe, expect, it } from 'vitest';
import {
  decodeDirectoryRecord,
  DirectoryRecordBuilder,
  encodeDirectoryRecord,
  EntryKind,
  type ArchiveEntry,
  type DirectoryEntry,
  type FileEntry,
} from '../../../core/archive/archive-format.js';

const LARGE = 1024 * 1024;
const common = { mode: 0o644, uid: 1000, gid: 1000, mtimeNs: 1_700_000_000_123_456_789n };

function file(name: string, size: number, payloadOffset: number, fill: number): FileEntry {
  const digest = Buffer.alloc(32, fill);
  return {
    kind: EntryKind.File,
    name: Buffer.from(name),
    ...common,
    size,
    payloadOffset,
    digest,
    ino: 7n,
    ctimeNs: 9n,
  };
}

function folder(name: string, recordOffset: number, payloadBase: number | undefined): DirectoryEntry {
  const entry = { kind: EntryKind.Directory, name: Buffer.from(name), ...common, recordOffset, recordLength: 77 };
  return { ...entry, payloadBase, ino: 11n, ctimeNs: 13n } as DirectoryEntry;
}

/** A folder's entries as a backup meets them: empty and content-less entries before its first content. */
function entries(): ArchiveEntry[] {
  return [
    file('a-empty', 0, 0, 1),
    folder('b-no-content', 100, undefined),
    { kind: EntryKind.Symlink, name: Buffer.from('c-link'), ...common, target: Buffer.from('../elsewhere') },
    file('d-first', 10, 5_000, 2),
    folder('e-sub', 200, 5_010),
    file('f-large', 2 * LARGE, 6_000, 3),
    { ...file('g-hardlink', 2 * LARGE, 6_000, 3), kind: EntryKind.Hardlink, linkTarget: Buffer.from('f-large') },
    file('h-small', 20, 2 * LARGE + 6_000, 4),
  ];
}

describe('DirectoryRecordBuilder', () => {
  it('encodes entry by entry what encodeDirectoryRecord encodes from them all', () => {
    const list = entries();
    const builder = new DirectoryRecordBuilder(LARGE);
    for (const e of list) builder.add(e);
    expect(builder.payloadBase).toBe(5_000);
    const place = { recordOffset: 1_000, payloadBase: 5_000 };
    const expected = encodeDirectoryRecord(list, place);
    expect(builder.length).toBe(expected.length);
    const record = builder.encode(place.recordOffset);
    expect(record.equals(expected)).toBe(true);
    // Decoded, a subfolder without content has its parent's base (always set on a decoded entry).
    const decodedAs = list.map((e, i) => (i === 1 ? { ...e, payloadBase: 5_000 } : e));
    expect(decodeDirectoryRecord(record, 'test record', place)).toEqual(decodedAs);
  });

  it('encodes the same with the room for its entries made at once, whether the names given fit it or not', () => {
    const place = { recordOffset: 1_000, payloadBase: 5_000 };
    const list = entries();
    // Past what a spare writer keeps (1 MiB), so the room is made here: 12,000 files after the usual entries.
    for (let i = 0; i < 12_000; i++)
      list.push(file(`z-${String(i).padStart(6, '0')}`, 10, 2 * LARGE + 7_000 + i * 10, 5));
    const expected = encodeDirectoryRecord(list, place);
    expect(expected.length).toBeGreaterThan(1024 * 1024);
    const names = list.map((e) => ({ nameLatin1: e.name.toString('latin1') }));
    // Room for all of them; for half (it grows past the room made); none made.
    for (const hint of [names, names.slice(0, names.length / 2), undefined]) {
      const builder = new DirectoryRecordBuilder(LARGE, hint);
      for (const e of list) builder.add(e);
      let written: Buffer | undefined;
      builder.writeTo(place.recordOffset, (record) => (written = Buffer.from(record)));
      expect(written!.equals(expected)).toBe(true);
    }
  });

  it("takes a large file's digest as it is when encoded, not when added", () => {
    const list = entries();
    const large = list[5] as FileEntry;
    (list[6] as FileEntry).digest = large.digest; // a later link shares the first link's digest buffer
    large.digest.fill(0); // the chunk writers' digest run has not delivered yet
    const builder = new DirectoryRecordBuilder(LARGE);
    for (const e of list) builder.add(e);
    large.digest.fill(0xab); // delivered into the same buffer
    const decoded = decodeDirectoryRecord(builder.encode(1_000), 'test record', {
      recordOffset: 1_000,
      payloadBase: 5_000,
    });
    expect((decoded[5] as FileEntry).digest).toEqual(Buffer.alloc(32, 0xab));
    expect((decoded[6] as FileEntry).digest).toEqual(Buffer.alloc(32, 0xab));
    expect((decoded[7] as FileEntry).digest).toEqual(Buffer.alloc(32, 4));
  });

  it('records a folder without content as having none, and refuses a subfolder placed after it', () => {
    const empty = new DirectoryRecordBuilder(LARGE);
    empty.add(file('only-empty', 0, 0, 1));
    expect(empty.payloadBase).toBeUndefined();
    expect(empty.encode(50)).toEqual(
      encodeDirectoryRecord([file('only-empty', 0, 0, 1)], { recordOffset: 50, payloadBase: 0 }),
    );
    const wrong = new DirectoryRecordBuilder(LARGE);
    wrong.add(folder('later', 500, undefined));
    expect(() => wrong.encode(400)).toThrow(/after its parent's/);
    expect(() => empty.add(file('x', 0, 0, 1))).toThrow(/after it was encoded/);
  });
});
