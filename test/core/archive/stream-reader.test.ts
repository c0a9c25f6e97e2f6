import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { EntryKind } from '../../../core/archive/archive-format.js';
import { encodeBlob } from '../../../core/blob/data-blob.js';
import { useDatastore } from '../../support/folder-store.js';
import { put } from '../../support/tree.js';
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
