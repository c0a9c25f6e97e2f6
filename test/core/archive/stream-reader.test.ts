import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { EntryKind } from '../../../core/archive/archive-format.js';
import { encodeBlob } from '../../../core/blob/data-blob.js';
import { CachedStreamReader } from '../../../core/archive/stream-reader.js';
import type { ChunkSource } from '../../../core/chunk-store/chunk-source.js';
import { useDatastore } from '../../support/folder-store.js';
import { put } from '../../support/tree.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { useTempDirs } from '../../support/temp.js';

describe('CachedStreamReader: reads whose bytes the caller checks itself', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  it('skips the chunk digest only for such a read: a kept chunk is read again, checked, when a checked read wants it', async () => {
    const src = scratch('stream-reader');
    put(src, 'a.txt', 'the first small file');
    put(src, 'b.txt', 'the second small file');
    const ref = (await backupFolder(ctx.store, src, { id: 'stream-reader' })).snapshot;
    const verified: string[] = [];
    const reader = new FolderArchiveReader(ctx.store.openSnapshot(ref), {
      onChunkVerified: (digest) => verified.push(digest.toString('hex')),
    });
    const entry = reader.get('a.txt');
    if (entry.kind !== EntryKind.File) throw new Error('a.txt is not a file');
    const { payloadOffset, size } = entry;
    const i = reader.dataIndex.chunkAt(payloadOffset);
    const digest = reader.dataIndex.digest(i);
    // Another sound blob in the chunk's place: its CRC and length are right, its content is not.
    const swapped = Buffer.from(ctx.store.chunks.readChunk(digest));
    swapped.write('THE', payloadOffset - reader.dataIndex.chunkStart(i));
    writeFileSync(ctx.store.chunks.chunkPath(digest), encodeBlob(swapped, { compress: true }));

    const unchecked = Buffer.concat([...reader.data.slices(payloadOffset, size, { contentChecked: true })]);
    expect(unchecked.toString()).toBe('THE first small file');
    expect(verified).not.toContain(digest.toString('hex')); // not counted as verified
    const digestMismatch = new RegExp(`chunk ${digest.toString('hex')}: digest mismatch`);
    expect(() => [...reader.data.slices(payloadOffset, size)]).toThrow(digestMismatch); // not served from the cache
    expect(() => reader.data.checkChunks(payloadOffset, size)).toThrow(digestMismatch);
    const restore = reader.restoreContent(payloadOffset, size);
    if (restore.chunkDigest) throw new Error('a small file has no digest made from its chunks');
    expect(() => restore.blameChunks!()).toThrow(digestMismatch);
  });
});

/** The snapshot's chunks, each read's digest noted in `reads`. */
function countingReads(snapshot: ChunkSource, reads: string[]): ChunkSource {
  return {
    readChunk: (digest, length, check) => {
      reads.push(Buffer.from(digest).toString('hex'));
      return snapshot.readChunk(digest, length, check);
    },
  };
}

describe('CachedStreamReader: the same chunk at several places in a stream', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  it('is decoded once while it is in the cache, and the bytes read are the file', async () => {
    const src = scratch('stream-repeats');
    // Random data repeated: the chunker cuts each copy the same way, so the stream holds the same chunks again.
    put(src, 'repeated.bin', Buffer.concat(Array.from({ length: 4 }, () => pseudoRandomBytes(3 * 1024 * 1024, 'r'))));
    const ref = (await backupFolder(ctx.store, src, { id: 'stream-repeats' })).snapshot;
    const snapshot = ctx.store.openSnapshot(ref);
    const index = new FolderArchiveReader(snapshot).dataIndex;
    const places = Array.from({ length: index.chunkCount }, (_, i) => index.digest(i).toString('hex'));
    const distinct = new Set(places).size;
    expect(distinct).toBeLessThan(places.length / 2); // the copies' chunks are shared
    const reads: string[] = [];
    const reader = new CachedStreamReader(countingReads(snapshot, reads), index, 4);
    const bytes = Buffer.concat([...reader.slices(0, index.size)]);
    expect(bytes.equals(readFileSync(join(src, 'repeated.bin')))).toBe(true);
    // Each copy's chunks follow those of the copy before: a cache of 4 keeps them only if the copy has as few.
    expect(reads.length).toBeLessThan(places.length);
    expect(new Set(reads).size).toBe(distinct);
  });
});

describe('CachedStreamReader: a file on whole chunks that holds some of them more than once', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  it('reads each distinct chunk once, with every place it goes, however far apart the places are', async () => {
    const src = scratch('whole-chunks');
    // A disk image's repeated extents: blocks A…F, then A, B and C again after all of them.
    const blocks = 'ABCDEF'.split('').map((seed) => pseudoRandomBytes(3 * 1024 * 1024, seed));
    const image = Buffer.concat([...blocks, blocks[0]!, blocks[1]!, blocks[2]!]);
    put(src, 'disk.img', image);
    const ref = (await backupFolder(ctx.store, src, { id: 'whole-chunks' })).snapshot;
    const snapshot = ctx.store.openSnapshot(ref);
    const files = new FolderArchiveReader(snapshot);
    const entry = files.get('disk.img');
    if (entry.kind !== EntryKind.File) throw new Error('disk.img is not a file');
    const index = files.dataIndex;
    const first = index.chunkAt(entry.payloadOffset);
    const last = index.chunkAt(entry.payloadOffset + entry.size - 1);
    const places = Array.from({ length: last - first + 1 }, (_, k) => index.digest(first + k).toString('hex'));
    expect(new Set(places).size).toBeLessThan(places.length);
    const reads: string[] = [];
    const reader = new CachedStreamReader(countingReads(snapshot, reads), index, 4);
    const rebuilt = Buffer.alloc(entry.size);
    let written = 0;
    for (const { data, at } of reader.wholeChunks(entry.payloadOffset, entry.size)) {
      for (const offset of at) {
        rebuilt.set(data, offset);
        written += data.length;
      }
    }
    expect(written).toBe(entry.size);
    expect(rebuilt.equals(image)).toBe(true);
    expect(reads.sort()).toEqual([...new Set(places)].sort());
    // And restored so: the chunks written out of order make the file byte for byte.
    const target = scratch('whole-chunks-restored');
    await restoreFolder(ctx.store, ref, target);
    expect(readFileSync(join(target, 'disk.img')).equals(image)).toBe(true);
  });
});
