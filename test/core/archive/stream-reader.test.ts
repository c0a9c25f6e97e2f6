import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
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
    expect(restore.chunkDigest).toBeUndefined();
    expect(() => restore.blameChunks!()).toThrow(digestMismatch);
  });
});

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
    const counting: ChunkSource = {
      readChunk: (digest, length, check) => {
        reads.push(Buffer.from(digest).toString('hex'));
        return snapshot.readChunk(digest, length, check);
      },
    };
    const reader = new CachedStreamReader(counting, index, 4);
    const bytes = Buffer.concat([...reader.slices(0, index.size)]);
    expect(bytes.equals(readFileSync(join(src, 'repeated.bin')))).toBe(true);
    // Each copy's chunks follow those of the copy before: a cache of 4 keeps them only if the copy has as few.
    expect(reads.length).toBeLessThan(places.length);
    expect(new Set(reads).size).toBe(distinct);
  });
});
