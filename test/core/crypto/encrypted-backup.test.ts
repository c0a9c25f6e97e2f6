import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { EntryKind } from '../../../core/archive/archive-format.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { diffSnapshots } from '../../../core/archive/snapshot-diff.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { blobKind, encodeBlob, ENCRYPTED_HEADER_SIZE } from '../../../core/blob/data-blob.js';
import {
  decodeManifest,
  encodeManifest,
  MANIFEST_NAME,
  verifyManifestSignature,
} from '../../../core/backup/manifest.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { readGroupSource } from '../../../core/datastore/group-source.js';
import { CairnError, KeyRequiredError } from '../../../core/errors.js';
import { collectGarbage } from '../../../core/gc/garbage-collection.js';
import { pruneGroup } from '../../../core/prune/prune.js';
import { verify } from '../../../core/verify/verify.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { expectCairnError } from '../../support/errors.js';
import { ageChunkStore, chunksOnDisk, snapshotDigests } from '../../support/store-files.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
import { expectSameTree, put } from '../../support/tree.js';

const MARKER = 'ZEBRA-QUOKKA-7731';

/** A tree whose every file name and file holds the marker, in small files, a large one and a nested folder. */
function markerTree(root: string): string {
  for (let i = 0; i < 20; i++) put(root, `${MARKER}-note-${i}.txt`, `${MARKER} line ${i}\n`.repeat(50));
  put(root, `deep/${MARKER}-folder/${MARKER}-inner.txt`, `${MARKER}\n`);
  const big = pseudoRandomBytes(3 * 1024 * 1024, 'enc-big');
  Buffer.from(MARKER).copy(big, 1000);
  Buffer.from(MARKER).copy(big, 2_000_000);
  put(root, `${MARKER}-big.bin`, big);
  return root;
}

/** Every regular file under `dir`, with its path. */
function filesBelow(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe('encrypted folder backups', () => {
  const temp = useTempDirs();

  async function setup(): Promise<{ store: Datastore; src: string; crypt: CryptConfig; base: string }> {
    const base = temp('enc', storeTempRoot());
    const store = await Datastore.create(join(base, 'store'), { syncLevel: 'none' });
    // The folder's path holds the marker too (its name is the group's id, which is not secret, as in PBS).
    const src = markerTree(join(temp('enc-src'), `${MARKER}-home`, 'documents'));
    return { store, src, crypt: new CryptConfig(randomBytes(32)), base };
  }

  it('leaves no file name or content in the store, and restores byte for byte with the key', async () => {
    const { store, src, crypt, base } = await setup();
    const result = await backupFolder(store, src, { crypt, workers: 2 });
    const files = filesBelow(store.root);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const bytes = readFileSync(file);
      expect(bytes.includes(MARKER), file).toBe(false);
      for (const name of ['note-1', 'inner.txt', 'big.bin', 'deep']) expect(bytes.includes(name), file).toBe(false);
    }
    // Every chunk is an encrypted blob; every archive is listed as encrypted; the manifest is signed.
    for (const digest of chunksOnDisk(store)) {
      const raw = readFileSync(store.chunks.chunkPath(digest));
      expect(blobKind(raw)).toMatch(/^encrypted/);
    }
    const manifest = store.readManifest(result.snapshot);
    expect(manifest.files.map((f) => f['crypt-mode'])).toEqual(manifest.files.map(() => 'encrypt'));
    expect(verifyManifestSignature(manifest, crypt, 'm')).toBe('valid');
    expect(manifest.unprotected['key-fingerprint']).toBe(crypt.fingerprint());
    expect(readGroupSource(store.groupDir(result.snapshot))).toMatchObject({ sealed: true });

    const out = join(base, 'restored');
    const restored = await restoreFolder(store, result.snapshot, out, { crypt, workers: 2 });
    expect(restored.failedCount).toBe(0);
    expectSameTree(src, out);
  });

  it('refuses to read without the key, naming it, and with another key', async () => {
    const { store, src, crypt, base } = await setup();
    const { snapshot } = await backupFolder(store, src, { crypt });
    let thrown: unknown;
    try {
      store.openSnapshot(snapshot);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(KeyRequiredError);
    expect((thrown as KeyRequiredError).fingerprint).toBe(crypt.fingerprint());
    expect((thrown as Error).message).toContain(crypt.fingerprint().slice(0, 23));
    const other = new CryptConfig(randomBytes(32));
    expectCairnError(() => store.openSnapshot(snapshot, { crypt: other }), 'WRONG_KEY', /not with the key given/);
    await expect(restoreFolder(store, snapshot, join(base, 'out'))).rejects.toThrow(KeyRequiredError);
    // Of several keys, the one the snapshot names is taken.
    const reader = new FolderArchiveReader(store.openSnapshot(snapshot, { crypt: [other, crypt] }));
    expect(reader.list('').length).toBeGreaterThan(20);
    expectCairnError(() => store.openSnapshot(snapshot, { crypt: [other] }), 'KEY_REQUIRED');
  });

  it('refuses a manifest changed after it was signed', async () => {
    const { store, src, crypt } = await setup();
    const { snapshot } = await backupFolder(store, src, { crypt });
    const path = join(store.snapshotDir(snapshot), MANIFEST_NAME);
    const manifest = decodeManifest(readFileSync(path), path);
    manifest.files[0]!.size += 1;
    writeFileSync(path, encodeManifest(manifest));
    expectCairnError(() => store.openSnapshot(snapshot, { crypt }), 'CORRUPT', /changed after it was signed/);
    // An unsigned manifest of encrypted archives is refused as well.
    delete manifest.signature;
    writeFileSync(path, encodeManifest(manifest));
    expectCairnError(() => store.openSnapshot(snapshot, { crypt }), 'CORRUPT', /not signed/);
  });

  it('detects one changed byte of an encrypted chunk, also when its CRC is made to match', async () => {
    const { store, src, crypt } = await setup();
    const { snapshot } = await backupFolder(store, src, { crypt });
    const digest = [...snapshotDigests(store, store.snapshotInfo(snapshot))][0]!;
    const path = store.chunks.chunkPath(digest);
    const raw = readFileSync(path);
    raw[ENCRYPTED_HEADER_SIZE + 3]! ^= 0x01;
    // Recompute the CRC: only the GCM tag can tell now, and only with the key.
    const { crc32 } = await import('node:zlib');
    raw.writeUInt32LE(crc32(raw.subarray(ENCRYPTED_HEADER_SIZE)), 8);
    writeFileSync(path, raw);
    const blind = await verify(store, { snapshot });
    expect(blind.ok).toBe(true);
    expect(blind.snapshots[0]!.note).toMatch(/without the key .*CRC only/);
    const keyed = await verify(store, { snapshot }, { keys: [crypt] });
    expect(keyed.ok).toBe(false);
    expect(keyed.snapshots[0]!.problems.map((p) => p.message).join('\n')).toMatch(/decryption failed/);
  });

  it("names a small file's chunk swapped for another blob of the same key (sound tag, wrong length), and goes on", async () => {
    // Small files are read without their chunk's keyed digest (their own SHA-256 covers them): the length still is.
    const { store, src, crypt } = await setup();
    const { snapshot } = await backupFolder(store, src, { crypt });
    const reader = new FolderArchiveReader(store.openSnapshot(snapshot, { crypt }));
    const note = reader.get(`${MARKER}-note-0.txt`);
    const big = reader.get(`${MARKER}-big.bin`);
    if (note.kind !== EntryKind.File || big.kind !== EntryKind.File) throw new Error('not files');
    const index = reader.dataIndex;
    const small = index.digest(index.chunkAt(note.payloadOffset)).toString('hex');
    // A sound blob of the same key in its place, shorter: only the key's holder could make one.
    writeFileSync(store.chunks.chunkPath(small), encodeBlob(Buffer.from('shorter'), { compress: true, crypt }));
    const target = temp('enc-swapped-target');
    const result = await restoreFolder(store, snapshot, target, { crypt });
    expect(result.failed.map((f) => f.path)).toContain(`/${MARKER}-note-0.txt`);
    for (const f of result.failed)
      expect(f.message).toMatch(new RegExp(`chunk ${small}: decoded length \\d+ differs from the expected`));
    expect(readFileSync(join(target, `${MARKER}-big.bin`)).equals(readFileSync(join(src, `${MARKER}-big.bin`)))).toBe(
      true,
    );
  });

  it('uses only a base made with the same key, and never shares chunks across keys', async () => {
    const { store, src, crypt } = await setup();
    // Folders changed in the last 100 ms are listed again (listingSettleMs): let the new tree settle.
    await new Promise((r) => setTimeout(r, 250));
    const first = await backupFolder(store, src, { crypt });
    const again = await backupFolder(store, src, { crypt });
    expect(again.base).toBe(first.path);
    expect(again.bytesRead).toBe(0);
    expect(again.newChunks).toBe(0);
    const other = new CryptConfig(randomBytes(32));
    const log: string[] = [];
    const rekeyed = await backupFolder(store, src, {
      crypt: other,
      log: { info: (m) => log.push(m), warn: (m) => log.push(m) },
    });
    expect(rekeyed.base).toBeUndefined();
    expect(log.join('\n')).toMatch(/encrypted with another key/);
    const a = snapshotDigests(store, store.snapshotInfo(first.snapshot));
    const b = snapshotDigests(store, store.snapshotInfo(rekeyed.snapshot));
    expect([...a].filter((d) => b.has(d))).toEqual([]);
    // The newest is now under `other`: a plain backup into the group is refused, naming that key.
    await expect(backupFolder(store, src)).rejects.toThrow(/holds encrypted backups .*back it up with that key/);
    await expect(backupFolder(store, src)).rejects.toBeInstanceOf(KeyRequiredError);
  });

  it('keeps plain and encrypted groups side by side; GC, prune and diff work on both', async () => {
    const { store, src, crypt } = await setup();
    const plain = await backupFolder(store, src, { id: 'plain' });
    const enc1 = await backupFolder(store, src, { crypt });
    put(src, 'added.txt', 'new file');
    const enc2 = await backupFolder(store, src, { crypt });
    expect(diffSnapshots(store, enc1.snapshot, enc2.snapshot, crypt).entries.map((e) => e.path)).toContain('added.txt');
    expect(() => diffSnapshots(store, enc1.snapshot, enc2.snapshot)).toThrow(KeyRequiredError);
    // Prune of the encrypted group, without any key; then GC keeps every chunk the rest use.
    const outcomes = pruneGroup(store, enc1.snapshot, { keepLast: 1 });
    expect(outcomes.filter((o) => o.outcome === 'removed').length).toBe(1);
    ageChunkStore(store, 60_000);
    await collectGarbage(store, {});
    const needed = new Set([
      ...snapshotDigests(store, store.snapshotInfo(plain.snapshot)),
      ...snapshotDigests(store, store.snapshotInfo(enc2.snapshot)),
    ]);
    const onDisk = chunksOnDisk(store);
    for (const d of needed) expect(onDisk.has(d)).toBe(true);
    const all = await verify(store, { store: true }, { keys: [crypt] });
    expect(all.ok).toBe(true);
    expect(all.snapshots.every((s) => s.note === undefined)).toBe(true);
  });

  it('rejects a key of the wrong length', () => {
    expect(() => new CryptConfig(randomBytes(31))).toThrow(CairnError);
  });
});
