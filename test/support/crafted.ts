import { createHash } from 'node:crypto';
import {
  DATA_ARCHIVE,
  encodeDirectoryRecord,
  encodeTrailer,
  EntryKind,
  META_ARCHIVE,
  UNTRUSTED_LISTING,
  type ArchiveEntry,
  type DirectoryEntry,
} from '../../core/archive/archive-format.js';
import type { SnapshotRef } from '../../core/backup/backup-names.js';
import { encodeBlob } from '../../core/blob/data-blob.js';
import { sha256 } from '../../core/chunk-store/digest.js';
import type { Datastore } from '../../core/datastore/datastore.js';
import type { DynamicIndexWriter } from '../../core/index/dynamic-index.js';

/**
 * Hand-made folder snapshots, for archives a backup would never write (unsafe names, duplicates, links out of
 * the tree, cycles). Built with the low-level API: Datastore.beginSnapshot, createDynamicIndex, the record and
 * trailer encoders, and chunks inserted straight into the chunk store (cut every 64 KiB; the reader does not
 * care where the cuts are).
 */
export type CraftNode =
  | { kind: 'file'; name: string | Buffer; content: string | Buffer; mode?: number; mtimeNs?: bigint }
  | { kind: 'hardlink'; name: string | Buffer; content: string | Buffer; linkTarget: string | Buffer }
  | { kind: 'dir'; name: string | Buffer; children: CraftNode[]; mode?: number }
  | { kind: 'symlink'; name: string | Buffer; target: string | Buffer };

/** A stream being built in memory: its offset is where the next write lands. */
export class StreamBuilder {
  private readonly parts: Buffer[] = [];
  offset = 0;

  write(data: Buffer): number {
    const at = this.offset;
    this.parts.push(data);
    this.offset += data.length;
    return at;
  }

  /** Stores the stream's chunks and lists them in the index. */
  store(store: Datastore, index: DynamicIndexWriter): void {
    const all = Buffer.concat(this.parts);
    for (let at = 0; at < all.length; at += 65536) {
      const chunk = all.subarray(at, Math.min(all.length, at + 65536));
      const digest = sha256(chunk);
      store.chunks.insert(digest, encodeBlob(chunk, { compress: false }));
      index.add(chunk.length, digest);
    }
  }
}

const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
const gid = typeof process.getgid === 'function' ? process.getgid() : 0;
const base = { uid, gid, mtimeNs: 1_600_000_000_000_000_000n };

function bytes(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v) : v;
}

/**
 * Writes a snapshot of `host/<id>` whose streams `build` produced; `build` returns the root directory entry.
 * `options.chunkDigestMin` goes into the trailer; `options.trailerMagic` replaces the trailer's last 8 bytes
 * (an archive of a format this version does not read). `options.time` names the snapshot (epoch seconds).
 */
export function craftRaw(
  store: Datastore,
  id: string,
  build: (meta: StreamBuilder, data: StreamBuilder) => DirectoryEntry,
  options: { chunkDigestMin?: number; trailerMagic?: string; time?: number } = {},
): SnapshotRef {
  const snapshot = store.beginSnapshot({ type: 'host', id }, { time: options.time });
  try {
    const meta = new StreamBuilder();
    const data = new StreamBuilder();
    const root = build(meta, data);
    // By default chunk-digest threshold 0: every file digest is the SHA-256 of its content.
    const trailer = encodeTrailer(
      root,
      { files: 0, directories: 1, symlinks: 0, hardlinks: 0, bytes: data.offset, skipped: 0 },
      options.chunkDigestMin ?? 0,
      meta.offset,
    );
    if (options.trailerMagic !== undefined) trailer.write(options.trailerMagic, trailer.length - 8, 8, 'latin1');
    meta.write(trailer);
    const dataIndex = snapshot.createDynamicIndex(DATA_ARCHIVE);
    const metaIndex = snapshot.createDynamicIndex(META_ARCHIVE);
    data.store(store, dataIndex);
    meta.store(store, metaIndex);
    snapshot.closeIndex(dataIndex);
    snapshot.closeIndex(metaIndex);
    snapshot.finish();
    return snapshot.ref;
  } catch (err) {
    snapshot.abort();
    throw err;
  }
}

/** A directory entry for `children`, in the order given (not sorted, not checked: that is the point). */
export function craftDirectory(
  meta: StreamBuilder,
  data: StreamBuilder,
  name: Buffer,
  children: CraftNode[],
  mode = 0o755,
): DirectoryEntry {
  const entries: ArchiveEntry[] = children.map((c): ArchiveEntry => {
    const n = bytes(c.name);
    switch (c.kind) {
      case 'dir':
        return craftDirectory(meta, data, n, c.children, c.mode);
      case 'symlink':
        return { kind: EntryKind.Symlink, name: n, mode: 0o777, ...base, target: bytes(c.target) };
      case 'file':
      case 'hardlink': {
        const content = bytes(c.content);
        const payloadOffset = content.length > 0 ? data.write(content) : 0;
        const entry = {
          kind: c.kind === 'file' ? (EntryKind.File as const) : (EntryKind.Hardlink as const),
          name: n,
          mode: c.kind === 'file' ? (c.mode ?? 0o644) : 0o644,
          ...base,
          mtimeNs: c.kind === 'file' ? (c.mtimeNs ?? base.mtimeNs) : base.mtimeNs,
          size: content.length,
          payloadOffset,
          digest: createHash('sha256').update(content).digest(),
          ino: 0n,
          ctimeNs: 0n,
        };
        return c.kind === 'hardlink' ? { ...entry, linkTarget: bytes(c.linkTarget) } : entry;
      }
    }
  });
  // The current record layout, with payload base 0: file offsets relative to it are the absolute ones.
  const record = encodeDirectoryRecord(entries, { recordOffset: meta.offset, payloadBase: 0 });
  const recordOffset = meta.write(record);
  return {
    kind: EntryKind.Directory,
    name,
    mode,
    ...base,
    recordOffset,
    recordLength: record.length,
    ino: 0n,
    ctimeNs: UNTRUSTED_LISTING,
  };
}

/** A snapshot whose root holds `children` exactly as given. */
export function craftSnapshot(
  store: Datastore,
  id: string,
  children: CraftNode[],
  options: { time?: number } = {},
): SnapshotRef {
  return craftRaw(store, id, (meta, data) => craftDirectory(meta, data, Buffer.alloc(0), children), options);
}
