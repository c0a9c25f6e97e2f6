import { randomBytes } from 'node:crypto';
import { appendFileSync, linkSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EntryKind, type ArchiveEntry } from '../../../core/archive/archive-format.js';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { diffSnapshots } from '../../../core/archive/snapshot-diff.js';
import type { SnapshotRef } from '../../../core/backup/backup-names.js';
import { MANIFEST_NAME } from '../../../core/backup/manifest.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { distinctNames } from '../../../core/backup/source-set.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import type { ChunkIndex } from '../../../core/index/index-format.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { expectCode } from '../../support/errors.js';
import { useDatastore } from '../../support/folder-store.js';
import { expectSameTree, put, settleFolders } from '../../support/tree.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';

const MiB = 1024 * 1024;

function reader(store: Datastore, ref: SnapshotRef): FolderArchiveReader {
  return new FolderArchiveReader(store.openSnapshot(ref));
}

function names(entries: readonly ArchiveEntry[]): string[] {
  return entries.map((e) => e.name.toString());
}

function digests(index: ChunkIndex): string[] {
  return Array.from({ length: index.chunkCount }, (_, i) => index.digest(i).toString('hex'));
}

/** Three sources, two of them named `docs`, with a large file and a symlink. */
function makeSources(top: string): { photos: string; homeDocs: string; workDocs: string } {
  const photos = join(top, 'photos');
  const homeDocs = join(top, 'home', 'docs');
  const workDocs = join(top, 'work', 'docs');
  put(photos, 'a.jpg', pseudoRandomBytes(2 * MiB, 'photo-a'));
  put(photos, 'album/b.jpg', pseudoRandomBytes(300 * 1024, 'photo-b'));
  put(homeDocs, 'letter.txt', textBytes(5000, 1));
  put(homeDocs, 'cache/skip.tmp', 'excluded by /cache/ from this source');
  symlinkSync('letter.txt', join(homeDocs, 'link'));
  put(workDocs, 'report.txt', textBytes(7000, 2));
  put(workDocs, 'deep/er/cache/kept.txt', 'an unanchored path: /cache/ is only the source’s own');
  return { photos, homeDocs, workDocs };
}

describe('a folder backup of several folders', () => {
  const ctx = useDatastore();
  const temp = useTempDirs();

  it('names each folder in a virtual root, backs them up incrementally and restores them byte for byte', async () => {
    const top = temp('multi', storeTempRoot());
    const { photos, homeDocs, workDocs } = makeSources(top);
    await settleFolders(top);
    const first = await backupFolder(ctx.store, [workDocs, photos, homeDocs], { id: 'multi', excludes: ['/cache/'] });
    const r = reader(ctx.store, first.snapshot);
    expect(names(r.list(''))).toEqual(['home-docs', 'photos', 'work-docs']);
    expect(names(r.list('home-docs'))).toEqual(['letter.txt', 'link']);
    expect(names(r.list('work-docs/deep/er/cache'))).toEqual(['kept.txt']);
    expect(first.stats).toMatchObject({ files: 5, directories: 8, symlinks: 1 });
    expect(first.excluded).toBe(1);
    // The group records every folder, sorted; the manifest names each folder's entry.
    expect(ctx.store.groupSource({ type: 'host', id: 'multi' })).toMatchObject({ paths: [homeDocs, photos, workDocs] });
    expect(ctx.store.openSnapshot(first.snapshot).manifest.unprotected['cairn-backup']).toMatchObject({
      sources: [
        { path: homeDocs, name: 'home-docs' },
        { path: photos, name: 'photos' },
        { path: workDocs, name: 'work-docs' },
      ],
    });

    // Unchanged, given in another order: the same names, nothing read, nothing new, the base's metadata.
    const second = await backupFolder(ctx.store, [homeDocs, workDocs, photos], { id: 'multi', excludes: ['/cache/'] });
    expect(second).toMatchObject({
      base: first.path,
      bytesRead: 0,
      newChunks: 0,
      foldersUnchanged: first.stats.directories,
      metadataAppended: true,
    });
    expect(second.bytesReused).toBe(first.stats.bytes);
    expect(digests(reader(ctx.store, second.snapshot).meta.index)).toEqual(digests(r.meta.index));

    // One file grows: only it is read, and the diff names it by its path in the root.
    appendFileSync(join(workDocs, 'report.txt'), 'one more line\n');
    const third = await backupFolder(ctx.store, [homeDocs, workDocs, photos], { id: 'multi', excludes: ['/cache/'] });
    expect(third.bytesRead).toBe(7000 + 'one more line\n'.length);
    expect(
      diffSnapshots(ctx.store, second.snapshot, third.snapshot).entries.map((e) => `${e.change} ${e.path}`),
    ).toEqual(['changed work-docs/report.txt']);

    const out = join(temp('restored', storeTempRoot()), 'out');
    await restoreFolder(ctx.store, third.snapshot, out);
    expectSameTree(photos, join(out, 'photos'));
    expectSameTree(homeDocs, join(out, 'home-docs'), { skip: ['cache'] });
    expectSameTree(workDocs, join(out, 'work-docs'));
    // A restore of one source's folder alone.
    const one = join(temp('restored-one', storeTempRoot()), 'out');
    await restoreFolder(ctx.store, third.snapshot, one, { path: 'home-docs' });
    expect(readFileSync(join(one, 'letter.txt')).equals(textBytes(5000, 1))).toBe(true);
  });

  it('keeps a hardlink between two sources, by its path in the root', async () => {
    const top = temp('linked', storeTempRoot());
    put(top, 'one/file.bin', pseudoRandomBytes(100 * 1024, 'linked'));
    mkdirSync(join(top, 'two'));
    linkSync(join(top, 'one/file.bin'), join(top, 'two/again.bin'));
    const result = await backupFolder(ctx.store, [join(top, 'two'), join(top, 'one')], { id: 'linked' });
    const r = reader(ctx.store, result.snapshot);
    expect(r.get('two/again.bin')).toMatchObject({ kind: EntryKind.Hardlink, linkTarget: Buffer.from('one/file.bin') });
    const out = join(temp('restored', storeTempRoot()), 'out');
    await restoreFolder(ctx.store, result.snapshot, out);
    expect(lstatSync(join(out, 'two/again.bin')).ino).toBe(lstatSync(join(out, 'one/file.bin')).ino);
    expect(readFileSync(join(out, 'two/again.bin')).equals(pseudoRandomBytes(100 * 1024, 'linked'))).toBe(true);
  });

  it('encrypted: names no folder in the manifest, and restores each with the key', async () => {
    const top = temp('encrypted', storeTempRoot());
    put(top, 'secret-a/x.txt', textBytes(3000, 5));
    put(top, 'secret-b/y.txt', textBytes(4000, 6));
    const crypt = new CryptConfig(randomBytes(32));
    await settleFolders(top);
    const folders = [join(top, 'secret-b'), join(top, 'secret-a')];
    const result = await backupFolder(ctx.store, folders, { id: 'encrypted-multi', crypt });
    const manifestText = readFileSync(join(ctx.root, result.path, MANIFEST_NAME));
    expect(manifestText.includes(Buffer.from('secret-a'))).toBe(false);
    const r = new FolderArchiveReader(ctx.store.openSnapshot(result.snapshot, { crypt }));
    expect(names(r.list(''))).toEqual(['secret-a', 'secret-b']);
    const again = await backupFolder(ctx.store, folders, { id: 'encrypted-multi', crypt });
    expect(again).toMatchObject({ base: result.path, bytesRead: 0, newChunks: 0 });
    const out = join(temp('restored', storeTempRoot()), 'out');
    await restoreFolder(ctx.store, again.snapshot, out, { crypt });
    expectSameTree(join(top, 'secret-a'), join(out, 'secret-a'));
    expectSameTree(join(top, 'secret-b'), join(out, 'secret-b'));
  });

  it('refuses folders inside one another, a folder twice, the store inside a folder, and several without an id', async () => {
    const top = temp('refused', storeTempRoot());
    mkdirSync(join(top, 'a/b'), { recursive: true });
    mkdirSync(join(top, 'c'));
    symlinkSync(join(top, 'a/b'), join(top, 'b-link'));
    await expectCode(
      backupFolder(ctx.store, [join(top, 'a'), join(top, 'a/b')], { id: 'x' }),
      'INVALID_ARGUMENT',
      /inside/,
    );
    await expectCode(
      backupFolder(ctx.store, [join(top, 'b-link'), join(top, 'a')], { id: 'x' }),
      'INVALID_ARGUMENT',
      /inside/,
    );
    await expectCode(
      backupFolder(ctx.store, [join(top, 'c'), join(top, 'c/')], { id: 'x' }),
      'INVALID_ARGUMENT',
      /same source/,
    );
    await expectCode(
      backupFolder(ctx.store, [join(top, 'c'), join(ctx.root, '..')], { id: 'x' }),
      'PATH_NOT_ALLOWED',
      /inside/,
    );
    await expectCode(backupFolder(ctx.store, [join(top, 'a'), join(top, 'c')]), 'INVALID_NAME', /several folders/);
    await expectCode(backupFolder(ctx.store, [join(top, 'a'), join(top, 'missing')], { id: 'x' }), 'NOT_FOUND');
    expect(ctx.store.listSnapshots({ type: 'host', id: 'x' })).toEqual([]);
  });
});

describe('distinct names for sources', () => {
  const byName = (paths: string[]): string[] => distinctNames(paths, (parts) => parts.join('-'));

  it('keeps unique names, joins parents in front of shared ones until they differ, and numbers what is left', () => {
    expect(byName(['/h/docs', '/h/photos'])).toEqual(['docs', 'photos']);
    expect(byName(['/home/docs', '/work/docs', '/music'])).toEqual(['home-docs', 'work-docs', 'music']);
    expect(byName(['/a/x/docs', '/b/x/docs'])).toEqual(['a-x-docs', 'b-x-docs']);
    expect(byName(['/x/docs', '/a/x/docs'])).toEqual(['x-docs', 'a-x-docs']);
    expect(byName(['/b-c', '/b/c', '/y/c'])).toEqual(['b-c', 'b-c-2', 'y-c']);
    expect(byName(['/docs', '/q/docs'])).toEqual(['docs', 'q-docs']);
  });
});
